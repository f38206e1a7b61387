/// The portable 16-bit activation kernels (Swift SIMD, no intrinsics): what non-x86 builds run,
/// compiled on x86-64 too so the tests check them against the same references as the AVX2 ones.
///
/// Weights are unpacked to bytes in `SIMD16<UInt8>` halves exactly as the 8-bit portable kernels
/// do (bitwise ops on `SIMD32<UInt8>` compile to lane loops). Since the activation stores each
/// block as 16 even elements then 16 odd ones, 16 weight bytes viewed as `SIMD8<Int16>` split
/// into their 8 even elements (`(v << 8) >> 8`, sign-extended) and 8 odd ones (`v >> 8`) with no
/// shuffle, and each is multiplied with 8 activation quants in the `vpmaddwd` form: both viewed
/// as `SIMD4<Int32>`, low halves `(v << 16) >> 16` times low halves plus high halves `v >> 16`
/// times high halves (LLVM emits `vpmaddwd` for it on x86-64). Overflow bounds: see
/// `GGMLKernels+Wide.swift`.
extension GGMLKernels {
    // MARK: Helpers

    /// Four int32 sums of adjacent pairs of 8 int16 weights × 8 int16 quants.
    @inline(__always)
    static func pairDot(_ w: SIMD8<Int16>, _ x: SIMD8<Int16>) -> SIMD4<Int32> {
        let wv = unsafeBitCast(w, to: SIMD4<Int32>.self)
        let xv = unsafeBitCast(x, to: SIMD4<Int32>.self)
        return ((wv &<< 16) &>> 16) &* ((xv &<< 16) &>> 16) &+ (wv &>> 16) &* (xv &>> 16)
    }

    /// The even and the odd elements of 16 weight bytes (int8 values, element order) as int16.
    @inline(__always)
    static func evenOdd(_ v: SIMD16<UInt8>) -> (even: SIMD8<Int16>, odd: SIMD8<Int16>) {
        let lanes = unsafeBitCast(v, to: SIMD8<Int16>.self)
        return ((lanes &<< 8) &>> 8, lanes &>> 8)
    }

    /// 8 int16 activation quants at x + byteOffset.
    @inline(__always)
    static func quants8(_ x: UnsafeRawPointer, _ byteOffset: Int) -> SIMD8<Int16> {
        x.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Int16>.self)
    }

    /// Σ over 32 weight bytes (int8 values, element order) × the block of 32 quants at x (even
    /// elements then odd ones); at most 32 · 128 · 32767 in magnitude: fits int32.
    @inline(__always)
    static func wideBlockDot(_ w: Bytes32, _ x: UnsafeRawPointer) -> Int32 {
        let first = evenOdd(w.low), second = evenOdd(w.high)
        let lanes = (pairDot(first.even, quants8(x, 0)) &+ pairDot(second.even, quants8(x, 16)))
            &+ (pairDot(first.odd, quants8(x, 32)) &+ pairDot(second.odd, quants8(x, 48)))
        return lanesSum(lanes)
    }

    // MARK: Activation quantization

    static func portableWideQuantize(_ x: UnsafePointer<Float>, blocks: Int, into a: WideQuantizedActivation) {
        for b in 0..<blocks {
            let p = x + b &* 32
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(p[i])) }
            let d = amax / Float(WideQuantizedActivation.maximumQuant)
            let id: Float = d != 0 ? 1 / d : 0
            var total: Int32 = 0
            for i in 0..<32 {
                // |x·id| ≤ maximumQuant + a few ulps of rounding in d and 1/d: rounds to at most maximumQuant.
                let q = Int16((p[i] * id).rounded(.toNearestOrEven))
                a.quants[b &* 32 &+ (i & 1) &* 16 &+ i >> 1] = q
                total &+= Int32(q)
            }
            a.scales[b] = d
            a.sums[b] = d * Float(total)
        }
    }

    // MARK: Legacy blocks of 32

    static func portableWideDotQ8_0(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 34
            sum += Float(wideBlockDot(load32(block, 2), xq + b &* 64)) * (half(block, 0) * a.scales[b])
        }
        return sum
    }

    static func portableWideDotQ4_0(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 18
            let q = portableNibbles(block + 2)
            sum += Float(wideBlockDot((q.low &- 8, q.high &- 8), xq + b &* 64)) * (half(block, 0) * a.scales[b])
        }
        return sum
    }

    static func portableWideDotQ4_1(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 20
            sum += Float(wideBlockDot(portableNibbles(block + 4), xq + b &* 64)) * (half(block, 0) * a.scales[b])
            offsets += half(block, 2) * a.sums[b]
        }
        return sum + offsets
    }

    static func portableWideDotQ5_0(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 22
            let q = portableNibbles(block + 6), h = portableBit4(block + 2)
            let w = ((q.low | h.low) &- 16, (q.high | h.high) &- 16)
            sum += Float(wideBlockDot(w, xq + b &* 64)) * (half(block, 0) * a.scales[b])
        }
        return sum
    }

    static func portableWideDotQ5_1(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 24
            let q = portableNibbles(block + 8), h = portableBit4(block + 4)
            sum += Float(wideBlockDot((q.low | h.low, q.high | h.high), xq + b &* 64)) * (half(block, 0) * a.scales[b])
            offsets += half(block, 2) * a.sums[b]
        }
        return sum + offsets
    }

    // MARK: K-quants

    static func portableWideDotQ4_K(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, superBlocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        for s in 0..<superBlocks {
            let block = row + s &* 144
            let d = half(block, 0)
            let dmin = half(block, 2)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let dx = a.scales + s &* 8
            let sx = a.sums + s &* 8
            var minSum: Float = 0
            for g in 0..<4 {
                let q = load32(block, 16 &+ g &* 32)
                let j = 2 &* g
                sum += Float(wideBlockDot((q.low & 0x0F, q.high & 0x0F), xq + g &* 128)) * (d * Float(scales[j]) * dx[j])
                sum += Float(wideBlockDot((q.low &>> 4, q.high &>> 4), xq + (g &* 128 &+ 64))) * (d * Float(scales[j &+ 1]) * dx[j &+ 1])
                minSum += Float(mins[j]) * sx[j] + Float(mins[j &+ 1]) * sx[j &+ 1]
            }
            offsets += dmin * minSum
        }
        return sum - offsets
    }

    static func portableWideDotQ5_K(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, superBlocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        for s in 0..<superBlocks {
            let block = row + s &* 176
            let d = half(block, 0)
            let dmin = half(block, 2)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            var highBits = load32(block, 16)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let dx = a.scales + s &* 8
            let sx = a.sums + s &* 8
            var minSum: Float = 0
            for g in 0..<4 {
                let q = load32(block, 48 &+ g &* 32)
                // Bit 2g (low sub-block) and 2g+1 (high sub-block) of each high-bit byte, moved to bit 4.
                let low = ((q.low & 0x0F) | ((highBits.low & 1) &<< 4), (q.high & 0x0F) | ((highBits.high & 1) &<< 4))
                let high = ((q.low &>> 4) | ((highBits.low & 2) &<< 3), (q.high &>> 4) | ((highBits.high & 2) &<< 3))
                highBits = (highBits.low &>> 2, highBits.high &>> 2)
                let j = 2 &* g
                sum += Float(wideBlockDot(low, xq + g &* 128)) * (d * Float(scales[j]) * dx[j])
                sum += Float(wideBlockDot(high, xq + (g &* 128 &+ 64))) * (d * Float(scales[j &+ 1]) * dx[j &+ 1])
                minSum += Float(mins[j]) * sx[j] + Float(mins[j &+ 1]) * sx[j &+ 1]
            }
            offsets += dmin * minSum
        }
        return sum - offsets
    }

    /// Q6_K in 16-byte parts: part p of chunk k (elements 32k + 16p ..< 32k + 16p + 16 of a half)
    /// is sub-block 2k + p; its weights (q − 32) are multiplied by the int8 sub-block scale in
    /// int16 (|product| ≤ 4096). A chunk's int32 lanes hold 8 products each (≤ 1,073,709,056);
    /// their total (up to ~4.3e9) is formed in Int64.
    static func portableWideDotQ6_K(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, superBlocks: Int) -> Float {
        var sum: Float = 0
        for s in 0..<superBlocks {
            let block = row + s &* 210
            let d = half(block, 208)
            let dx = a.scales + s &* 8
            for h in 0..<2 {
                let sc = block + (192 &+ h &* 8)
                let xq = UnsafeRawPointer(a.quants + (s &* 256 &+ h &* 128))
                var chunk0 = SIMD4<Int32>(), chunk1 = SIMD4<Int32>(), chunk2 = SIMD4<Int32>(), chunk3 = SIMD4<Int32>()
                for part in 0..<2 {
                    let ql0 = block.loadUnaligned(fromByteOffset: h &* 64 &+ part &* 16, as: SIMD16<UInt8>.self)
                    let ql1 = block.loadUnaligned(fromByteOffset: h &* 64 &+ 32 &+ part &* 16, as: SIMD16<UInt8>.self)
                    let qh = block.loadUnaligned(fromByteOffset: 128 &+ h &* 32 &+ part &* 16, as: SIMD16<UInt8>.self)
                    // Elements of chunks 0...3: nibble | 2 high bits << 4, minus 32.
                    let q0 = ((ql0 & 0x0F) | ((qh & 0x03) &<< 4)) &- 32
                    let q1 = ((ql1 & 0x0F) | ((qh & 0x0C) &<< 2)) &- 32
                    let q2 = ((ql0 &>> 4) | (qh & 0x30)) &- 32
                    let q3 = ((ql1 &>> 4) | ((qh &>> 2) & 0x30)) &- 32
                    // Part p's even quants of chunk k at byte 64k + 16p, its odd ones 32 bytes on.
                    let x = xq + part &* 16
                    @inline(__always) func scaled(_ q: SIMD16<UInt8>, _ k: Int, _ x: UnsafeRawPointer) -> SIMD4<Int32> {
                        let scale = SIMD8<Int16>(repeating: Int16(sc.load(fromByteOffset: 2 &* k &+ part, as: Int8.self)))
                        let w = evenOdd(q)
                        return pairDot(w.even &* scale, quants8(x, 0)) &+ pairDot(w.odd &* scale, quants8(x, 32))
                    }
                    chunk0 &+= scaled(q0, 0, x)
                    chunk1 &+= scaled(q1, 1, x + 64)
                    chunk2 &+= scaled(q2, 2, x + 128)
                    chunk3 &+= scaled(q3, 3, x + 192)
                }
                let j = h &* 4
                sum += wideLanesTotal(chunk0) * (d * dx[j]) + wideLanesTotal(chunk1) * (d * dx[j &+ 1])
                sum += wideLanesTotal(chunk2) * (d * dx[j &+ 2]) + wideLanesTotal(chunk3) * (d * dx[j &+ 3])
            }
        }
        return sum
    }

    /// Σ of four int32 lanes of at most 1,073,709,056 each, without int32 overflow.
    @inline(__always)
    static func wideLanesTotal(_ v: SIMD4<Int32>) -> Float {
        Float((Int64(v[0]) &+ Int64(v[1])) &+ (Int64(v[2]) &+ Int64(v[3])))
    }
}
