import ArgumentParser
import CartridgeClient

/// PING round trips through the client library (HELLO done), for latency and echo throughput.
struct ProtocolPing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "PING latency / echo throughput over a URI.")

    @Option(help: "Cartridge URI (usb, usb:SERIAL, unix:/path).")
    var connect = "usb"

    @Option(help: "Round trips.")
    var count = 100

    @Option(help: "PING payload bytes.")
    var size = 0

    @OptionGroup var idle: IdleConnectionOptions

    func run() async throws {
        let connection = try await CartridgeConnection.connect(to: try CartridgeURI(parsing: connect), clientName: "selftest")
        defer { connection.close() }
        let idleConnection = try await idle.open()
        defer { idleConnection?.close() }
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let clock = ContinuousClock()
        var samples: [Duration] = []
        let start = clock.now
        for _ in 0..<count {
            let sent = clock.now
            guard try await connection.ping(payload) == payload else {
                say("ping: echo differs")
                throw ExitCode(1)
            }
            samples.append(clock.now - sent)
        }
        let total = clock.now - start
        samples.sort()
        let median = samples[samples.count / 2] / .microseconds(1)
        let p90 = samples[samples.count * 9 / 10] / .microseconds(1)
        let megabytes = Double(size * count) / (Double(total / .microseconds(1)))
        let rate = size > 0 ? ", \(Int(megabytes * 10) / 10).\(Int(megabytes * 10) % 10) MB/s each way" : ""
        say("ping \(connect) payload \(size) B x\(count)\(idle.label): median \(Int(median)) us, p90 \(Int(p90)) us\(rate)")
    }
}
