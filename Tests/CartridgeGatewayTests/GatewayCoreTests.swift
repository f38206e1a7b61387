@testable import CartridgeGateway
import CartridgeWire
import Foundation
import Testing

/// The pure pieces: the JSON reader and writer (hostile input), request parsing, base64, the
/// API key comparison.
@Suite("gateway core")
struct GatewayCoreTests {
    @Test(arguments: [
        #"{"a": [1, -2, 3.5, 1e3, true, false, null, "x\n\u00e9\ud83d\ude00"]}"#,
        #"  [ ]  "#, #"{}"#, #""plain""#, "0", "-0.5",
    ])
    func parsesWhatFoundationParses(_ text: String) throws {
        let value = try JSONValue(parsing: Array(text.utf8))
        let reparsed = try JSONValue(parsing: value.serialized())
        #expect(reparsed == value)
        let foundation = try JSONSerialization.jsonObject(with: Data(value.serialized()), options: [.fragmentsAllowed])
        let original = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(String(describing: foundation) == String(describing: original))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "\"abc", "[1] 2", "nul", "{\"a\":1,}",
        "\"\u{01}\"", String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "1e999",
    ])
    func rejectsMalformedJSONWithAnOffset(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8AndSurvivesRandomBytes() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0xFE, 0x22]) }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("{}[]\",:0123456789.-eE tfnul\\\"u".utf8)
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            _ = try? JSONValue(parsing: bytes)  // must not trap
        }
    }

    @Test func writesEscapesAndFloats() throws {
        let value = JSONValue.object([("t", .string("a\"b\\c\n\u{01}é")), ("f", JSONValue.float(0.1)), ("n", JSONValue.float(.nan))])
        #expect(String(decoding: value.serialized(), as: UTF8.self) == #"{"t":"a\"b\\c\n\u0001é","f":0.1,"n":null}"#)
        let vector: [Float] = [0.123456789, -1e-8, 3.4028235e38, 1]
        let text = JSONValue.array(vector.map(JSONValue.float)).serialized()
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [Double])
        #expect(decoded.map(Float.init) == vector, "floats survive the round trip exactly")
    }

    @Test func base64MatchesFoundation() {
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
        let floats: [Float] = [1, -2.5, 0.333]
        let data = Data(base64Encoded: Base64.encode(floats: floats))!
        #expect(data.count == 12)
        #expect(data.withUnsafeBytes { raw in (0..<3).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } } == floats)
    }

    @Test func apiKeyComparison() throws {
        let key = try #require(APIKey(fileContents: "sk-abc123\n"))
        #expect(key.accepts(authorization: "Bearer sk-abc123"))
        #expect(!key.accepts(authorization: "Bearer sk-abc124"))
        #expect(!key.accepts(authorization: "Bearer sk-abc12"))
        #expect(!key.accepts(authorization: "Bearer sk-abc1234"))
        #expect(!key.accepts(authorization: "bearer sk-abc123"))
        #expect(!key.accepts(authorization: "sk-abc123"))
        #expect(!key.accepts(authorization: nil))
        #expect(APIKey(fileContents: " \n") == nil)
    }

    static func fields(_ text: String) throws -> RequestFields { try RequestFields(body: Array(text.utf8)) }

    @Test func completionRequestsParseEveryPromptForm() throws {
        let text = try CompletionRequest(fields: Self.fields(#"{"model":"m","prompt":"hi","max_tokens":5,"temperature":0,"stop":"\n","seed":-1}"#))
        #expect(text.prompts == [.text("hi")])
        #expect(text.maximumTokens == 5 && text.temperature == 0 && text.stopSequences == ["\n"] && text.seed == UInt64.max)
        #expect(text.generateRequest(for: .text("hi")).topP == 0, "top_p 1 disables nucleus sampling")
        let list = try CompletionRequest(fields: Self.fields(#"{"model":"m","prompt":["a","b"]}"#))
        #expect(list.prompts == [.text("a"), .text("b")])
        #expect(list.maximumTokens == 16, "OpenAI's default")
        let tokens = try CompletionRequest(fields: Self.fields(#"{"model":"m","prompt":[1,2,3]}"#))
        #expect(tokens.prompts == [.tokens([1, 2, 3])])
        let batches = try CompletionRequest(fields: Self.fields(#"{"model":"m","prompt":[[1],[2,3]]}"#))
        #expect(batches.prompts == [.tokens([1]), .tokens([2, 3])])
    }

    @Test(arguments: [
        (#"{"prompt":"x"}"#, "model"), (#"{"model":"m"}"#, "prompt"), (#"{"model":"m","prompt":[]}"#, "prompt"),
        (#"{"model":"m","prompt":[1,"a"]}"#, "prompt"), (#"{"model":"m","prompt":[4294967296]}"#, "prompt"),
        (#"{"model":"m","prompt":"x","max_tokens":0}"#, "max_tokens"), (#"{"model":"m","prompt":"x","max_tokens":1.5}"#, "max_tokens"),
        (#"{"model":"m","prompt":"x","temperature":2.5}"#, "temperature"), (#"{"model":"m","prompt":"x","top_p":-1}"#, "top_p"),
        (#"{"model":"m","prompt":"x","stop":["a","b","c","d","e"]}"#, "stop"), (#"{"model":"m","prompt":"x","stop":[""]}"#, "stop"),
        (#"{"model":"m","prompt":"x","n":2}"#, "n"), (#"{"model":"m","prompt":"x","logprobs":9}"#, "logprobs"),
        (#"{"model":"m","prompt":["a","b"],"stream":true}"#, "prompt"), (#"{"model":7,"prompt":"x"}"#, "model"),
    ])
    func badCompletionRequestsNameTheField(_ text: String, _ param: String) throws {
        do {
            _ = try CompletionRequest(fields: Self.fields(text))
            Issue.record("accepted \(text)")
        } catch let error as GatewayError {
            #expect(error.code == .invalidRequest)
            #expect(error.param == param, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func chatAndEmbeddingRequests() throws {
        let chat = try ChatCompletionRequest(fields: Self.fields(
            #"{"model":"m","messages":[{"role":"developer","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]}],"max_completion_tokens":9,"max_tokens":3,"logprobs":true,"top_logprobs":2}"#))
        #expect(chat.messages == [.init(role: "system", content: "be brief"), .init(role: "user", content: "hi there")])
        #expect(chat.maximumTokens == 9 && chat.logprobs && chat.topLogprobs == 2)
        #expect(throws: GatewayError.self) { try ChatCompletionRequest(fields: Self.fields(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#)) }
        #expect(throws: GatewayError.self) { try ChatCompletionRequest(fields: Self.fields(#"{"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2}"#)) }
        #expect(throws: GatewayError.self) { try ChatCompletionRequest(fields: Self.fields(#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#)) }
        let embed = try EmbeddingRequest(fields: Self.fields(#"{"model":"e","input":["a","b"],"encoding_format":"base64"}"#))
        #expect(embed.inputs == ["a", "b"] && embed.encoding == .base64)
        #expect(throws: GatewayError.self) { try EmbeddingRequest(fields: Self.fields(#"{"model":"e","input":[1,2]}"#)) }
        #expect(throws: GatewayError.self) { try EmbeddingRequest(fields: Self.fields(#"{"model":"e","input":["a",""]}"#)) }
    }

    @Test func errorsRenderInOpenAIShape() throws {
        let error = GatewayError(.rateLimited, "full", retryAfterSeconds: 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(error.json.serialized())) as? [String: [String: Any]])
        #expect(object["error"]?["type"] as? String == "rate_limit_error")
        #expect(object["error"]?["code"] as? String == "queue_full")
        #expect(object["error"]?["message"] as? String == "full")
        #expect(object["error"]?["param"] is NSNull)
        #expect(error.code.status == 429)
    }

    @Test func aStreamChunkWithTheCachedPrefixEqualsTheWholeChunk() {
        for style in [CompletionFormatter.Style.text, .chat] {
            let formatter = CompletionFormatter(style: style, model: "m\"odel", digest: Array(repeating: 0xAB, count: 32))
            for (text, finish, role) in [("tok\n", nil, false), ("", "stop", true), ("é", nil, true)] as [(String, String?, Bool)] {
                #expect(formatter.chunkEvent(text: text, finishReason: finish, role: role)
                    == ServerSentEvents.event(formatter.chunk(text: text, finishReason: finish, role: role)))
            }
        }
    }

    /// Stream writes are paced: the first batch goes out at once, what follows within the
    /// interval waits for its end (and reads on while more arrived), and a zero interval writes
    /// every event alone.
    @Test func eventBatcherPacesWrites() async throws {
        let (batches, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        var batcher = EventBatcher(output: continuation, interval: .milliseconds(200))
        let start = ContinuousClock.now
        batcher.append([1])
        #expect(try await batcher.caughtUp { false })
        #expect(start.duration(to: .now) < .milliseconds(150), "the first batch is not delayed")
        batcher.append([2])
        #expect(try await batcher.caughtUp { true } == false, "more arrived during the wait: read it first")
        batcher.append([3])
        #expect(try await batcher.caughtUp { false })
        #expect(start.duration(to: .now) >= .milliseconds(200), "a second batch waits for the rest of the interval")
        batcher.flush()  // nothing pending: no empty batch
        var unpaced = EventBatcher(output: continuation, interval: .zero)
        unpaced.append([4])
        #expect(try await unpaced.caughtUp { true })
        unpaced.append([5])
        #expect(try await unpaced.caughtUp { true })
        continuation.finish()
        var received: [[UInt8]] = []
        for await batch in batches { received.append(batch) }
        #expect(received == [[1], [2, 3], [4], [5]])
    }

    @Test func logprobsShapes() throws {
        let entries = [
            LogprobEntry(text: "Once", logprob: nil, top: []),
            LogprobEntry(text: " upon", logprob: -0.5, top: [.init(text: " upon", logprob: -0.5), .init(text: " a", logprob: -2)]),
        ]
        let completion = try #require(try JSONSerialization.jsonObject(with: Data(LogprobEntry.completionLogprobs(entries).serialized())) as? [String: Any])
        #expect(completion["tokens"] as? [String] == ["Once", " upon"])
        #expect((completion["token_logprobs"] as? [Any])?.first is NSNull)
        #expect(completion["text_offset"] as? [Int] == [0, 4])
        #expect(((completion["top_logprobs"] as? [Any])?.last as? [String: Double])?[" a"] == -2)
        let chat = try #require(try JSONSerialization.jsonObject(with: Data(LogprobEntry.chatLogprobs(entries).serialized())) as? [String: Any])
        let content = try #require(chat["content"] as? [[String: Any]])
        #expect(content[1]["logprob"] as? Double == -0.5 && content[1]["bytes"] as? [Int] == Array(" upon".utf8).map(Int.init))
    }
}
