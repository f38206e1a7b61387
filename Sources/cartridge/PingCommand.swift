import ArgumentParser
import CartridgeClient

struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "Measure round-trip latency.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("n"), .long], help: "Number of pings.") var count = 10
    @Option(name: [.short, .long], help: "Payload bytes per ping.") var size = 0

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        let clock = ContinuousClock()
        var samples: [Double] = []
        for index in 0..<count {
            let start = clock.now
            let echo = try await cartridge.ping(payload)
            let elapsed = start.duration(to: clock.now)
            guard echo == payload else { throw CommandFailure("ping \(index): the echo differs from what was sent") }
            let microseconds = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
            samples.append(microseconds)
            print("\(size) bytes from \(cartridge.uri): seq=\(index) time=\(formatted(Float(microseconds), digits: 1)) µs")
        }
        let sorted = samples.sorted()
        print("median \(formatted(Float(sorted[sorted.count / 2]), digits: 1)) µs, min \(formatted(Float(sorted.first ?? 0), digits: 1)) µs")
    }
}
