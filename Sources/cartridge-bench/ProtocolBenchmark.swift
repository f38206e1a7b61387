import ArgumentParser
import CartridgeClient
import CartridgeWire

/// PING round-trip latency and echo throughput against a live cartridge, over any transport.
struct ProtocolBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protocol", abstract: "PING round-trip latency and streaming throughput to a cartridge.")

    @Option(name: [.short, .long], help: "Cartridge URI (unix:/path, usb, usb:SERIAL).")
    var connect: String = "unix:\(CartridgeURI.defaultSocketPath)"
    @Option(name: .long, help: "Round trips per latency size.") var iterations = 2000
    @Option(name: .long, help: "Seconds per throughput measurement.") var seconds: Double = 2
    @Option(name: .long, help: "Requests in flight for the pipelined throughput run.") var depth = 4

    func run() async throws {
        let uri = try CartridgeURI(parsing: connect)
        let cartridge = try await CartridgeConnection.connect(to: uri, clientName: "cartridge-bench")
        defer { cartridge.close() }
        let maximum = Int(cartridge.hello.maximumPayloadLength)
        print("transport \(uri), negotiated max payload \(maximum) B, header 16 B")
        print("")
        print("latency (PING/PONG round trip, \(iterations) iterations each)")
        print("payload B   median µs   p90 µs   p99 µs")
        for size in [0, 64, 1024, 16 * 1024] where size <= maximum {
            let payload = [UInt8](repeating: 0xA5, count: size)
            for _ in 0..<min(100, iterations) { _ = try await cartridge.ping(payload) }  // warm up
            var samples: [Double] = []
            samples.reserveCapacity(iterations)
            let clock = ContinuousClock()
            for _ in 0..<iterations {
                let start = clock.now
                _ = try await cartridge.ping(payload)
                samples.append(start.duration(to: clock.now).microseconds)
            }
            samples.sort()
            print(
                "\(pad(size, 9))   \(pad(samples[samples.count / 2], 9))   \(pad(samples[samples.count * 9 / 10], 6))   "
                    + "\(pad(samples[samples.count * 99 / 100], 6))")
        }
        print("")
        print("throughput (PING payloads echoed; MB/s counts payload bytes one way, 1 MB = 10^6 B)")
        print("payload B   in flight   MB/s")
        for size in [16 * 1024, 64 * 1024, maximum] where size <= maximum {
            for inFlight in [1, depth] {
                let rate = try await throughput(cartridge, size: size, inFlight: inFlight)
                print("\(pad(size, 9))   \(pad(inFlight, 9))   \(pad(rate, 6))")
            }
        }
    }

    private func throughput(_ cartridge: CartridgeConnection, size: Int, inFlight: Int) async throws -> Double {
        let payload = [UInt8](repeating: 0x5A, count: size)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    var bytes = 0
                    while clock.now < deadline {
                        let echo = try await cartridge.ping(payload)
                        guard echo.count == size else { throw ValidationError("short echo") }
                        bytes += size
                    }
                    return bytes
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / start.duration(to: clock.now).secondsValue / 1e6
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = "\(value)"
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

func pad(_ value: Double, _ width: Int) -> String {
    let rounded = (value * 10).rounded() / 10
    let text = "\(rounded)"
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
    var microseconds: Double { secondsValue * 1e6 }
}
