import ArgumentParser
import CartridgeUSBHost

/// Round-trip latency of small frames and echo throughput of larger ones.
struct Benchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "PING-like latency and bulk echo throughput.")

    @OptionGroup var host: HostOptions

    @Option(help: "Round trips for the latency figure.")
    var pings = 500

    @Option(help: "Seconds per throughput size.")
    var seconds: Double = 2

    func run() async throws {
        let context = LibUSBContext()
        let transport = try await host.open(context)
        defer { transport.close() }
        // Measured on libusb's event thread, as the C client (one thread that handles its own
        // events) is: each completion resumes this loop where it was seen.
        let lines = try await withTaskExecutorPreference(transport.preferredTaskExecutor) {
            try await measure(transport)
        }
        for line in lines { say(line) }
    }

    /// The report lines.
    private func measure(_ transport: LibUSBTransport) async throws -> [String] {
        var lines: [String] = []
        let clock = ContinuousClock()
        var number = 0
        var latencies: [Duration] = []
        let ping = EchoFrames.frame(payloadSize: 12, number: 0)
        for _ in 0..<pings {
            let start = clock.now
            guard try await EchoFrames.roundTrip(transport, frame: ping) else { throw ExitCode(1) }
            latencies.append(clock.now - start)
        }
        latencies.sort()
        func micros(_ duration: Duration) -> Int { Int(duration / .microseconds(1)) }
        lines.append("bench: ping 16-byte frame round trip: median \(micros(latencies[latencies.count / 2])) us, p99 \(micros(latencies[latencies.count * 99 / 100])) us over \(pings)")
        for payload in [16 * 1024 - 4, 64 * 1024 - 4, 1024 * 1024 - 4] {
            var bytes = 0
            number += 1
            let frame = EchoFrames.frame(payloadSize: payload, number: number)
            let start = clock.now
            while clock.now - start < .milliseconds(Int(seconds * 1000)) {
                guard try await EchoFrames.roundTrip(transport, frame: frame) else { throw ExitCode(1) }
                bytes += payload + 4
            }
            let elapsed = Double((clock.now - start) / .microseconds(1)) / 1e6
            let rate = Double(bytes) / elapsed / 1e6
            lines.append("bench: echo \(payload + 4)-byte frames: \(String(Int(rate * 10) / 10)).\(Int(rate * 10) % 10) MB/s each way (\(bytes) bytes in \(Int(elapsed * 1000)) ms)")
        }
        return lines
    }
}
