import CartridgeInference

/// A STREAM-style read test measured in the same run as the inference table, so the roofline
/// fraction uses this machine's bandwidth of the moment: SIMD sums over a 512 MiB buffer (16× the
/// L3), split across `threads` workers of the engine's own pool; the best of `passes` is reported.
enum ReadBandwidth {
    static func measure(threads: Int, megabytes: Int = 512, passes: Int = 7) -> Double {
        let count = megabytes << 20 / 4
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        defer { buffer.deallocate() }
        let floats = buffer.initializeMemory(as: Float.self, repeating: 1, count: count)
        let pool = WorkerPool(maximumWorkers: threads)
        let clock = ContinuousClock()
        var best = 0.0
        var sink: Float = 0
        for _ in 0..<passes {
            var partial = [Float](repeating: 0, count: threads)
            let elapsed = partial.withUnsafeMutableBufferPointer { sums in
                clock.measure {
                    pool.run { worker, workers in
                        let blocks = count / 64
                        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
                        let base = UnsafeRawPointer(floats)
                        for block in (blocks * worker / workers)..<(blocks * (worker + 1) / workers) {
                            let offset = block &* 256
                            acc0 += base.load(fromByteOffset: offset, as: SIMD16<Float>.self)
                            acc1 += base.load(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                            acc2 += base.load(fromByteOffset: offset &+ 128, as: SIMD16<Float>.self)
                            acc3 += base.load(fromByteOffset: offset &+ 192, as: SIMD16<Float>.self)
                        }
                        sums[worker] = (acc0 + acc1 + acc2 + acc3).sum()
                    }
                }
            }
            sink += partial.reduce(0, +)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = max(best, Double(count * 4) / seconds / 1e9)
        }
        precondition(sink > 0, "the sums must be used")  // keeps the loads from being optimised away
        return best
    }
}
