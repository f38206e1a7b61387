import CartridgeTestSupport
import CartridgeWire
import Testing

/// Issue 13, defect 2, and the stop-sequence rule of PROTOCOL.md 4.4.
@Suite("Stop sequences", .timeLimit(.minutes(2)))
struct StopSequenceTests {
    struct Output {
        var tokens: [GeneratedToken] = []
        var done: GenerationSummary?
        var text: String { tokens.map(\.text).joined() + (done?.trailingText ?? "") }
    }

    func generate(_ connection: inout RawConnection, id: UInt32, _ request: GenerateRequest) async throws -> Output {
        try await connection.send(request.frame(requestID: id))
        var output = Output()
        for frame in try await connection.frames(of: id) {
            switch frame.type {
            case .token: output.tokens.append(try GeneratedToken(payload: frame.payload))
            case .done: output.done = try GenerationSummary(payload: frame.payload)
            default: Issue.record("unexpected \(frame)")
            }
        }
        return output
    }

    /// Text held back because it began a stop sequence that never completed is delivered in
    /// DONE's trailing text when maximum_tokens ends the stream.
    @Test func heldBackTextIsDeliveredAtMaximumTokens() async throws {
        let server = try InProcessServer()
        var connection = try await server.connect()
        let prompt = Prompt.tokens([1, 300, 301])
        let plain = try await generate(&connection, id: 2, GenerateRequest(prompt: prompt, maximumTokens: 12))
        let text = plain.text
        let last = try #require(text.last, "the tiny model produced no text")
        // A stop sequence the output starts (its last character) but never completes.
        let stop = String(last) + "\u{7}never"
        let held = try await generate(&connection, id: 3, GenerateRequest(prompt: prompt, maximumTokens: 12, stopSequences: [stop]))
        let done = try #require(held.done)
        #expect(done.stopReason == .maximumTokens)
        #expect(done.trailingText.hasSuffix(String(last)), "trailing text '\(done.trailingText)'")
        #expect(held.text == text, "TOKEN texts + trailing text must equal the output without the stop sequence")
        #expect(done.generatedTokens == 12)
        connection.close()
        try await server.stop()
    }

    /// A stop sequence matches anywhere in the output bytes, also inside one token's text: the
    /// text before it is delivered, the stop sequence and the rest are not, and the token that
    /// completed the match is neither sent nor counted.
    @Test func aMatchInsideATokenDeliversTheTextBeforeIt() async throws {
        let server = try InProcessServer()
        var connection = try await server.connect()
        // Find an output with a multi-character token whose tail does not occur earlier.
        var found: (prompt: Prompt, before: String, first: Character, stop: String, index: Int)?
        var id: UInt32 = 2
        search: for start in UInt32(300)..<UInt32(340) {
            let prompt = Prompt.tokens([1, start])
            let plain = try await generate(&connection, id: id, GenerateRequest(prompt: prompt, maximumTokens: 48))
            id += 1
            for (index, token) in plain.tokens.enumerated() where token.text.count >= 2 {
                let before = plain.tokens[..<index].map(\.text).joined()
                let stop = String(token.text.dropFirst())
                if !(before + String(token.text.first!)).contains(stop) {
                    found = (prompt, before, token.text.first!, stop, index)
                    break search
                }
            }
        }
        let case_ = try #require(found, "the tiny model produced no multi-character token")
        let stopped = try await generate(
            &connection, id: id, GenerateRequest(prompt: case_.prompt, maximumTokens: 48, stopSequences: [case_.stop]))
        let done = try #require(stopped.done)
        #expect(done.stopReason == .stopSequence)
        #expect(stopped.text == case_.before + String(case_.first), "the text before the match, and nothing after it")
        #expect(done.generatedTokens == UInt32(stopped.tokens.count))
        #expect(stopped.tokens.count == case_.index, "the token that completed the match is not sent")
        connection.close()
        try await server.stop()
    }
}
