import ArgumentParser
import CartridgeClient

/// EMBED round trips of a batch of sentences through the client library (HELLO done): the
/// request, the embeddings answer (`sentences` x dimension floats) and the protocol around them.
struct EmbedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed-bench", abstract: "EMBED latency over a URI.")

    @Option(help: "Cartridge URI (usb, usb:SERIAL, unix:/path).")
    var connect = "usb"

    @Option(help: "Sentences per EMBED.")
    var sentences = 64

    @Option(help: "Timed EMBED requests (after one warm-up).")
    var count = 10

    @OptionGroup var idle: IdleConnectionOptions

    func run() async throws {
        let connection = try await CartridgeConnection.connect(to: try CartridgeURI(parsing: connect), clientName: "selftest")
        defer { connection.close() }
        let idleConnection = try await idle.open()
        defer { idleConnection?.close() }
        let batch = (0..<sentences).map { "Sentence number \($0) of the batch, about as long as a short question is." }
        let reference = try await connection.embed(batch)
        guard reference.count == sentences, let dimension = reference.first?.count, dimension > 0 else {
            say("embed-bench: expected \(sentences) vectors, got \(reference.count)")
            throw ExitCode(1)
        }
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for _ in 0..<count {
            let start = clock.now
            let vectors = try await connection.embed(batch)
            samples.append(clock.now - start)
            guard vectors == reference else {
                say("embed-bench: the embeddings changed between requests")
                throw ExitCode(1)
            }
        }
        samples.sort()
        let median = samples[samples.count / 2] / .microseconds(1)
        let p90 = samples[samples.count * 9 / 10] / .microseconds(1)
        say("embed \(connect) \(sentences) sentences x\(count) (\(sentences * dimension * 4) bytes of vectors)\(idle.label): median \(Int(median)) us, p90 \(Int(p90)) us")
    }
}
