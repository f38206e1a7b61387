import CartridgeClient
import CartridgeGateway
import CartridgeTestSupport
import CartridgeWire
import Foundation
import Testing

/// The HTTP surface over real cartridged processes (the tiny synthetic checkpoint and the tiny
/// BERT): OpenAI shapes, answers equal to the direct protocol's, and every error shape.
@Suite("gateway HTTP shapes", .serialized, .timeLimit(.minutes(3)))
struct GatewayHTTPTests {
    static func embeddingDaemon() async throws -> RunningDaemon {
        let directory = try TemporaryDirectory("gateway-bert")
        let model = try TinyBertModel.write(into: directory)
        return try await RunningDaemon(model: (["--embedding-model", model], directory))
    }

    @Test func modelsCompletionsStreamAndEmbeddingsMatchTheProtocol() async throws {
        let generator = try await RunningDaemon()
        let embedder = try await Self.embeddingDaemon()
        var configuration = GatewayConfiguration()
        configuration.cartridges = [generator.uri, embedder.uri]
        try await GatewayHarness.run(configuration, expectedCartridges: 2) { gateway in
            // /v1/models: one entry per model, with digest, licence and capabilities.
            let models = try await gateway.get("/v1/models")
            #expect(models.status == 200)
            #expect(models.json?["object"] as? String == "list")
            let data = try #require(models.json?["data"] as? [[String: Any]])
            #expect(data.count == 2)
            let generatorEntry = try #require(data.first { ($0["capabilities"] as? [String])?.contains("completions") == true })
            let embedderEntry = try #require(data.first { ($0["capabilities"] as? [String])?.contains("embeddings") == true })
            let generatorModel = try #require(generatorEntry["id"] as? String)
            let embedderModel = try #require(embedderEntry["id"] as? String)
            #expect(generatorEntry["object"] as? String == "model")
            #expect((generatorEntry["digest"] as? String)?.hasPrefix("sha256:") == true)
            #expect((generatorEntry["digest"] as? String)?.count == 71)
            #expect(generatorEntry["owned_by"] is String && generatorEntry["license"] is String)
            let single = try await gateway.get("/v1/models/\(generatorModel)")
            #expect(single.status == 200 && single.json?["id"] as? String == generatorModel)

            // Completions: greedy text equals the direct protocol's.
            let direct = try await generator.connect()
            let expected = try await direct.generate(GenerateRequest(prompt: .text("Once upon"), maximumTokens: 12, temperature: 0)).collect()
            let completion = try await gateway.post(
                "/v1/completions", json: ["model": generatorModel, "prompt": "Once upon", "max_tokens": 12, "temperature": 0])
            #expect(completion.status == 200, "\(completion.text)")
            let body = try #require(completion.json)
            #expect(body["object"] as? String == "text_completion")
            #expect((body["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(choiceText(body) == expected.text)
            let usage = try #require(body["usage"] as? [String: Int])
            #expect(usage["completion_tokens"] == 12)
            #expect(usage["prompt_tokens"] == Int(expected.summary.promptTokens))
            #expect(usage["total_tokens"] == 12 + Int(expected.summary.promptTokens))
            #expect(((body["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) == "length")

            // Echo prepends the prompt; a token-id prompt works too.
            let echoed = try await gateway.post(
                "/v1/completions", json: ["model": generatorModel, "prompt": "Once upon", "max_tokens": 12, "temperature": 0, "echo": true])
            #expect(choiceText(echoed.json) == "Once upon" + expected.text)
            let byTokens = try await gateway.post(
                "/v1/completions", json: ["model": generatorModel, "prompt": [1, 300, 301], "max_tokens": 5, "temperature": 0])
            let tokenExpected = try await direct.generate(GenerateRequest(prompt: .tokens([1, 300, 301]), maximumTokens: 5)).collect()
            #expect(choiceText(byTokens.json) == tokenExpected.text)

            // Streamed: the same text, as SSE chunks ending with [DONE], usage chunk when asked.
            var streamed = ""
            var sawDone = false
            var finish: String?
            var usageChunk: [String: Int]?
            let status = try await gateway.stream(
                "/v1/completions",
                json: ["model": generatorModel, "prompt": "Once upon", "max_tokens": 12, "temperature": 0, "stream": true,
                       "stream_options": ["include_usage": true]]
            ) { event in
                if event == "[DONE]" {
                    sawDone = true
                    return false
                }
                let chunk = eventJSON(event)
                #expect(chunk?["object"] as? String == "text_completion", "\(event)")
                if let usage = chunk?["usage"] as? [String: Int] { usageChunk = usage }
                streamed += choiceText(chunk) ?? ""
                if let reason = ((chunk?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) { finish = reason }
                return true
            }
            #expect(status == 200)
            #expect(sawDone)
            #expect(streamed == expected.text)
            #expect(finish == "length")
            #expect(usageChunk?["completion_tokens"] == 12)

            // Embeddings: float and base64 vectors equal the direct EMBED's.
            let sentences = ["The cat sat on the mat.", "A dog is on a rug!"]
            let directEmbedder = try await embedder.connect()
            let vectors = try await directEmbedder.embed(sentences)
            let floats = try await gateway.post("/v1/embeddings", json: ["model": embedderModel, "input": sentences])
            #expect(floats.status == 200, "\(floats.text)")
            let items = try #require(floats.json?["data"] as? [[String: Any]])
            #expect(items.count == 2)
            for (index, item) in items.enumerated() {
                #expect(item["index"] as? Int == index && item["object"] as? String == "embedding")
                let values = try #require(item["embedding"] as? [Double]).map(Float.init)
                #expect(values == vectors[index])
            }
            let encoded = try await gateway.post(
                "/v1/embeddings", json: ["model": embedderModel, "input": sentences[0], "encoding_format": "base64"])
            let base64 = try #require((encoded.json?["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let bytes = try #require(Data(base64Encoded: base64))
            let decoded = bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
            #expect(decoded == vectors[0])

            // Log-probabilities, with the echoed prompt's positions first (null for the first one).
            let withLogprobs = try await gateway.post(
                "/v1/completions", json: ["model": generatorModel, "prompt": [1, 300, 301], "max_tokens": 5, "temperature": 0, "logprobs": 2, "echo": true])
            #expect(withLogprobs.status == 200, "\(withLogprobs.text)")
            let choice = try #require((withLogprobs.json?["choices"] as? [[String: Any]])?.first)
            let logprobs = try #require(choice["logprobs"] as? [String: Any])
            let tokens = try #require(logprobs["tokens"] as? [String])
            let tokenLogprobs = try #require(logprobs["token_logprobs"] as? [Any])
            let top = try #require(logprobs["top_logprobs"] as? [Any])
            let offsets = try #require(logprobs["text_offset"] as? [Int])
            #expect(tokens.count == 3 + 5, "3 prompt positions and 5 generated tokens: \(tokens)")
            #expect(tokenLogprobs.count == tokens.count && top.count == tokens.count && offsets.count == tokens.count)
            #expect(tokenLogprobs.first is NSNull && top.first is NSNull)
            #expect(tokenLogprobs.dropFirst().allSatisfy { ($0 as? Double).map { $0 <= 0 } ?? false }, "\(tokenLogprobs)")
            #expect((top.last as? [String: Double]).map { $0.count >= 1 && $0.count <= 2 } == true, "\(top)")
            #expect(choice["text"] as? String == tokens.joined())
            #expect(tokens.suffix(5).joined() == tokenExpected.text, "greedy: the same tokens as without logprobs")
            // Greedy: each generated token is its position's most likely one.
            for (token, alternatives) in zip(tokens.suffix(5), top.suffix(5)) {
                let best = try #require((alternatives as? [String: Double])?.max { $0.value < $1.value }?.key)
                #expect(best == token)
            }

            // A long generation with log-probabilities, whole and streamed: the DETOKENIZE round trips
            // for alternatives share the connection with the stream and must not stall behind its
            // back-pressure (256 frames).
            let long = try await gateway.post(
                "/v1/completions", json: ["model": generatorModel, "prompt": [1, 7], "max_tokens": 600, "temperature": 0, "logprobs": 5])
            #expect(long.status == 200, "\(long.text)")
            let longTokens = ((long.json?["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])?["tokens"] as? [String]
            #expect(longTokens?.count == (long.json?["usage"] as? [String: Int])?["completion_tokens"])
            var streamedPositions = 0
            _ = try await gateway.stream(
                "/v1/completions", json: ["model": generatorModel, "prompt": [1, 7], "max_tokens": 600, "temperature": 0, "logprobs": 5, "stream": true]
            ) { event in
                if let chunk = eventJSON(event), let first = (chunk["choices"] as? [[String: Any]])?.first,
                    let logprobs = first["logprobs"] as? [String: Any], let tokens = logprobs["tokens"] as? [String] {
                    streamedPositions += tokens.count
                }
                return event != "[DONE]"
            }
            #expect(streamedPositions == longTokens?.count)

            // Metrics count what happened.
            #expect(try await gateway.metric("cartridge_gateway_requests_total", containing: "endpoint=\"/v1/completions\"") ?? 0 >= 3)
            #expect(try await gateway.metric("cartridge_gateway_generated_tokens_total") ?? 0 >= 36)
            #expect(try await gateway.metric("cartridge_gateway_power_budget_milliwatts") != nil)
            direct.close()
            directEmbedder.close()
        }
        _ = await generator.stop()
        _ = await embedder.stop()
    }

    @Test func errorsHaveOpenAIShapesAndStatuses() async throws {
        let generator = try await RunningDaemon()
        let embedder = try await Self.embeddingDaemon()
        var configuration = GatewayConfiguration()
        configuration.cartridges = [generator.uri, embedder.uri]
        configuration.maximumBodyBytes = 4096
        try await GatewayHarness.run(configuration, expectedCartridges: 2) { gateway in
            let models = try #require(try await gateway.get("/v1/models").json?["data"] as? [[String: Any]])
            let generatorModel = try #require(models.first { ($0["capabilities"] as? [String])?.contains("completions") == true }?["id"] as? String)
            let embedderModel = try #require(models.first { ($0["capabilities"] as? [String])?.contains("embeddings") == true }?["id"] as? String)

            func expectError(_ reply: GatewayHarness.Reply, status: Int, code: String, param: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(reply.status == status, "\(reply.text)", sourceLocation: sourceLocation)
                #expect(reply.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
                let error = reply.error
                #expect(error?["code"] as? String == code, "\(reply.text)", sourceLocation: sourceLocation)
                #expect((error?["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
                #expect(error?["type"] is String, sourceLocation: sourceLocation)
                if let param { #expect(error?["param"] as? String == param, "\(reply.text)", sourceLocation: sourceLocation) }
            }
            let json = [("Content-Type", "application/json")]
            expectError(try await gateway.send("POST", "/v1/completions", body: Array("{not json".utf8), headers: json), status: 400, code: "invalid_request")
            expectError(try await gateway.send("POST", "/v1/completions", body: Array("[1,2]".utf8), headers: json), status: 400, code: "invalid_request")
            expectError(try await gateway.send("POST", "/v1/completions", body: Array(String(repeating: "[", count: 5000).utf8), headers: json), status: 413, code: "request_too_large")
            expectError(try await gateway.send("POST", "/v1/completions", body: Array(String(repeating: "[", count: 2000).utf8), headers: json), status: 400, code: "invalid_request")
            expectError(try await gateway.post("/v1/completions", json: ["prompt": "x"]), status: 400, code: "invalid_request", param: "model")
            expectError(try await gateway.post("/v1/completions", json: ["model": generatorModel]), status: 400, code: "invalid_request", param: "prompt")
            expectError(try await gateway.post("/v1/completions", json: ["model": generatorModel, "prompt": "x", "max_tokens": -3]), status: 400, code: "invalid_request", param: "max_tokens")
            expectError(try await gateway.post("/v1/completions", json: ["model": generatorModel, "prompt": "x", "temperature": "hot"]), status: 400, code: "invalid_request", param: "temperature")
            expectError(try await gateway.post("/v1/completions", json: ["model": generatorModel, "prompt": [1, -2]]), status: 400, code: "invalid_request", param: "prompt")
            expectError(try await gateway.post("/v1/completions", json: ["model": generatorModel, "prompt": "x", "n": 3]), status: 400, code: "invalid_request", param: "n")
            expectError(try await gateway.post("/v1/completions", json: ["model": "no-such-model", "prompt": "x"]), status: 404, code: "model_not_found", param: "model")
            expectError(try await gateway.post("/v1/embeddings", json: ["model": generatorModel, "input": "x"]), status: 400, code: "invalid_request", param: "model")
            expectError(try await gateway.post("/v1/embeddings", json: ["model": embedderModel, "input": [String]()]), status: 400, code: "invalid_request", param: "input")
            expectError(try await gateway.post("/v1/embeddings", json: ["model": embedderModel, "input": "x", "encoding_format": "hex"]), status: 400, code: "invalid_request", param: "encoding_format")
            expectError(try await gateway.post("/v1/chat/completions", json: ["model": generatorModel, "messages": [["role": "wizard", "content": "hi"]]]), status: 400, code: "invalid_request", param: "messages[0].role")
            expectError(try await gateway.post("/v1/chat/completions", json: ["model": generatorModel, "messages": [["role": "user", "content": "hi"]]]), status: 400, code: "invalid_request", param: "model")
            expectError(try await gateway.get("/v1/completions"), status: 405, code: "method_not_allowed")
            expectError(try await gateway.get("/v2/nothing"), status: 404, code: "not_found")
            expectError(try await gateway.get("/v1/models/nothing"), status: 404, code: "model_not_found")
            // No CORS unless asked.
            let plain = try await gateway.get("/v1/models", headers: [("Origin", "http://evil.example")])
            #expect(plain.header("Access-Control-Allow-Origin") == nil)
            // The gateway still answers after all that.
            let health = try await gateway.get("/health")
            #expect(health.status == 200 && health.json?["status"] as? String == "ok")
        }
        _ = await generator.stop()
        _ = await embedder.stop()
    }

    @Test func bearerAuthAndCORSWhenConfigured() async throws {
        let generator = try await RunningDaemon()
        var configuration = GatewayConfiguration()
        configuration.cartridges = [generator.uri]
        configuration.apiKey = "sk-test-secret\n"
        configuration.corsOrigins = ["http://app.example"]
        try await GatewayHarness.run(configuration, expectedCartridges: 1) { gateway in
            let anonymous = try await gateway.get("/v1/models")
            #expect(anonymous.status == 401 && anonymous.error?["code"] as? String == "invalid_api_key")
            let wrong = try await gateway.get("/v1/models", headers: [("Authorization", "Bearer sk-test-secreT")])
            #expect(wrong.status == 401)
            let longer = try await gateway.get("/v1/models", headers: [("Authorization", "Bearer sk-test-secret2")])
            #expect(longer.status == 401)
            let right = try await gateway.get("/v1/models", headers: [("Authorization", "Bearer sk-test-secret"), ("Origin", "http://app.example")])
            #expect(right.status == 200)
            #expect(right.header("Access-Control-Allow-Origin") == "http://app.example")
            let other = try await gateway.get("/v1/models", headers: [("Authorization", "Bearer sk-test-secret"), ("Origin", "http://evil.example")])
            #expect(other.header("Access-Control-Allow-Origin") == nil)
            let preflight = try await gateway.send("OPTIONS", "/v1/completions", body: nil, headers: [("Origin", "http://app.example")])
            #expect(preflight.status == 204 && preflight.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
            // /health stays open for load balancers.
            #expect(try await gateway.get("/health").status == 200)
        }
        _ = await generator.stop()
    }
}
