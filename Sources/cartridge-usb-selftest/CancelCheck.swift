import ArgumentParser
import CartridgeClient
import CartridgeWire

/// CANCEL mid-stream over the client library: stop iterating a long generation after a few
/// tokens (the library sends CANCEL), then check that the same connection still serves a new
/// request whose tokens match a fresh run.
struct CancelCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel-check", abstract: "CANCEL a stream mid-way, then generate again.")

    @Option(help: "Cartridge URI (usb, usb:SERIAL, unix:/path).")
    var connect = "usb"

    func run() async throws {
        let connection = try await CartridgeConnection.connect(to: try CartridgeURI(parsing: connect), clientName: "selftest")
        defer { connection.close() }
        let long = GenerateRequest(prompt: .tokens([1, 42]), maximumTokens: 100_000, temperature: 0, topP: 0, topK: 0, seed: 0, session: 0, stopSequences: [])
        var received = 0
        let clock = ContinuousClock()
        let start = clock.now
        for try await event in try await connection.generate(long) {
            if case .token = event { received += 1 }
            if received == 5 { break }
        }
        say("cancel-check: cancelled after \(received) tokens (\(Int((clock.now - start) / .milliseconds(1))) ms)")
        let short = GenerateRequest(prompt: .tokens([1, 42]), maximumTokens: 8, temperature: 0, topP: 0, topK: 0, seed: 0, session: 0, stopSequences: [])
        let (_, tokens, summary) = try await connection.generate(short).collect()
        say("cancel-check: next request on the same connection: \(tokens.count) tokens, stop=\(summary.stopReason)")
        guard tokens.count == 8 else { throw ExitCode(1) }
        say("cancel-check: ping after cancel: \(try await connection.ping([1, 2, 3]) == [1, 2, 3] ? "ok" : "MISMATCH")")
    }
}
