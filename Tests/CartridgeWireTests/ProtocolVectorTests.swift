import CartridgeWire
import Testing

@Suite("docs/PROTOCOL.md vectors")
struct ProtocolVectorTests {
    static let digest = (0xA0...0xBF).map { UInt8($0) }

    /// What each vector must decode to. Every message type of the catalogue appears here.
    static let expected: [String: (FrameType, UInt32, FrameFlags, any WireMessage)] = [
        "HELLO": (.hello, 1, [], HelloRequest(maximumPayloadLength: 1 << 20, clientName: "demo")),
        "HELLO_REPLY": (
            .helloReply, 1, [],
            HelloReply(
                version: 1, maximumPayloadLength: 1 << 20, capabilities: [.generate, .tokenize, .power, .sessions],
                maximumRequestsInFlight: 16, deviceName: "cartridged", imageDigest: digest)
        ),
        "INFO": (.info, 2, [], InfoRequest()),
        "MODEL_CARD": (
            .modelCard, 2, [],
            ModelCard(
                name: "stories260K", family: "llama", architecture: "decoder dim=64 hidden=172 layers=5 heads=8 kv_heads=4",
                parameterCount: 260_000, quantization: "f32", contextLength: 512, vocabularySize: 512,
                tokenizer: "llama2c-bpe", imageDigest: digest, licence: "MIT", publisher: "karpathy", embeddingDimension: 0)
        ),
        "TOKENIZE": (.tokenize, 3, [], TokenizeRequest(text: "Hi", options: .addBeginning)),
        "TOKENS": (.tokens, 3, [], TokenList(tokens: [1, 436])),
        "DETOKENIZE": (.detokenize, 4, [], DetokenizeRequest(tokens: [436])),
        "TEXT": (.text, 4, [], TextReply(text: "Hi")),
        "GENERATE": (
            .generate, 5, [], GenerateRequest(prompt: .text("Once"), maximumTokens: 64, seed: 42, stopSequences: ["\n"])
        ),
        "GENERATE_TOKENS": (
            .generate, 6, [],
            GenerateRequest(
                prompt: .tokens([1, 403]), maximumTokens: 8, temperature: 0.8, topP: 0.9, topK: 40, seed: 7, session: 3)
        ),
        "TOKEN": (.token, 5, [], GeneratedToken(index: 0, tokenID: 453, text: " upon")),
        "DONE": (
            .done, 5, [],
            GenerationSummary(
                stopReason: .maximumTokens, promptTokens: 2, cachedPromptTokens: 0, generatedTokens: 64,
                timeToFirstTokenMicroseconds: 1500, totalMicroseconds: 90000, tokensPerSecond: 700, trailingText: " The end.")
        ),
        "CHAT": (
            .chat, 11, [],
            ChatRequest(
                messages: [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Capital of France?")],
                maximumTokens: 128, session: 1, topLogprobs: 2)
        ),
        "GENERATE_ECHO": (.generate, 12, [], GenerateRequest(prompt: .tokens([1, 403]), maximumTokens: 1, topLogprobs: 2, echo: true)),
        "PROMPT_TOKEN": (
            .promptToken, 12, [],
            PromptToken(
                index: 1, tokenID: 403, text: "Once",
                logprobs: TokenLogprobs(logprob: -3.5, top: [TokenLogprob(tokenID: 403, logprob: -3.5), TokenLogprob(tokenID: 1, logprob: -4)]))
        ),
        "TOKEN_LOGPROBS": (
            .token, 12, [],
            GeneratedToken(
                index: 0, tokenID: 2501, text: " upon",
                logprobs: TokenLogprobs(logprob: -0.25, top: [TokenLogprob(tokenID: 2501, logprob: -0.25), TokenLogprob(tokenID: 278, logprob: -2)]))
        ),
        "EMBED": (.embed, 7, [], EmbedRequest(sentences: ["a cat", "a dog"])),
        "EMBEDDINGS": (.embeddings, 7, [], EmbeddingsReply(dimension: 2, values: [0.6, 0.8, 1.0, 0.0])),
        "CANCEL": (.cancel, 5, [], CancelRequest()),
        "POWER": (.power, 8, .subscribe, PowerRequest()),
        "POWER_STATUS": (
            .powerStatus, 8, [],
            PowerStatus(
                sequence: 3, source: "usb-pd", state: "contract 9V 3A (PDO 2)", offeredObjects: [0x0A01_912C, 0x0002_D12C],
                offeredDescriptions: ["Fixed 5V 3A", "Fixed 9V 3A"], contractPosition: 2, contractMillivolts: 9000,
                contractMilliamps: 3000, budgetMilliwatts: 27000, workerCount: 2, tokensPerSecondCap: 0,
                estimatedDrawMilliwatts: 6500, maxPowerMilliamps: 500, requestDataObject: 0x2304_B12C)
        ),
        "PING": (.ping, 9, [], PingPayload(bytes: [0xDE, 0xAD, 0xBE, 0xEF])),
        "PONG": (.pong, 9, [], PingPayload(bytes: [0xDE, 0xAD, 0xBE, 0xEF])),
        "ERROR": (.error, 10, [], ErrorReply(.busy, "busy")),
    ]

    /// A POWER_STATUS from a device that predates `request_data_object` decodes with 0 there.
    @Test func powerStatusWithoutTheRequestDataObjectDecodesAsZero() throws {
        let status = PowerStatus(
            sequence: 1, source: "usb-pd", state: "x", offeredObjects: [], offeredDescriptions: [], contractPosition: 1,
            contractMillivolts: 5000, contractMilliamps: 3000, budgetMilliwatts: 15000, workerCount: 2, tokensPerSecondCap: 0,
            estimatedDrawMilliwatts: 0, maxPowerMilliamps: 500, requestDataObject: 0x1304_B12C)
        var payload = status.payload()
        #expect(try PowerStatus(payload: payload).requestDataObject == 0x1304_B12C)
        payload.removeLast(4)
        let short = try PowerStatus(payload: payload)
        #expect(short.requestDataObject == 0)
        #expect(short.maxPowerMilliamps == 500)
    }

    @Test func documentHasEveryMessageType() {
        let names = Set(ProtocolDocument.vectors.filter { $0.kind == "vector" }.map(\.name))
        #expect(names == Set(Self.expected.keys), "PROTOCOL.md vectors and test expectations differ")
        let types = Set(Self.expected.values.map(\.0))
        #expect(types == FrameType.requests.union(FrameType.replies), "every message type needs a vector")
    }

    @Test(arguments: ProtocolDocument.vectors.filter { $0.kind == "vector" })
    func vectorDecodesAndRoundTrips(_ vector: ProtocolDocument.Vector) throws {
        let (type, id, flags, message) = try #require(Self.expected[vector.name])
        var decoder = FrameDecoder(maximumPayloadLength: 1 << 20)
        decoder.append(vector.bytes)
        guard case .frame(let frame) = decoder.next() else {
            Issue.record("\(vector.name) did not decode as one frame")
            return
        }
        #expect(decoder.next() == nil)
        #expect(decoder.isAtFrameBoundary)
        #expect(frame.type == type)
        #expect(frame.requestID == id)
        #expect(frame.flags == flags)
        try Self.checkPayload(frame.payload, equals: message)
        // Encoding the expected message gives the document's bytes exactly.
        let encoded = Frame(type: type, flags: flags, requestID: id, payload: message.payload()).encoded()
        #expect(encoded == vector.bytes)
    }

    static func checkPayload<Message: WireMessage>(_ payload: [UInt8], equals message: Message) throws {
        let decoded = try Message(payload: payload)
        #expect(decoded == message)
    }

    @Test func garbageThenPingResynchronizes() throws {
        var session = DeviceSession(limits: .standard, capabilities: [], deviceName: "t", imageDigest: [])
        session.receive(ProtocolDocument.frame(named: "GARBAGE_THEN_PING"))
        guard case .send(let error) = session.nextAction(), case .send(let pong) = session.nextAction() else {
            Issue.record("expected ERROR then PONG")
            return
        }
        #expect(error.type == .error && error.requestID == 0)
        #expect(try ErrorReply(payload: error.payload).code == .malformedFrame)
        #expect(pong.type == .pong && pong.requestID == 9 && pong.payload == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(session.nextAction() == nil)
    }

    @Test func oversizeHeaderIsRefusedBeforeAllocation() throws {
        var session = DeviceSession(limits: .standard, capabilities: [], deviceName: "t", imageDigest: [])
        session.receive(ProtocolDocument.frame(named: "OVERSIZE_HEADER"))
        guard case .send(let error) = session.nextAction() else {
            Issue.record("expected ERROR")
            return
        }
        #expect(error.requestID == 11)
        #expect(try ErrorReply(payload: error.payload).code == .payloadTooLarge)
        #expect(session.decoder.bufferedByteCount == 0)
    }

    @Test func version2IsRefusedAndSkipped() throws {
        var session = DeviceSession(limits: .standard, capabilities: [], deviceName: "t", imageDigest: [])
        session.receive(ProtocolDocument.frame(named: "VERSION_2") + ProtocolDocument.frame(named: "PING"))
        guard case .send(let error) = session.nextAction(), case .send(let pong) = session.nextAction() else {
            Issue.record("expected ERROR then PONG")
            return
        }
        #expect(error.requestID == 12)
        #expect(try ErrorReply(payload: error.payload).code == .unsupportedVersion)
        #expect(pong.type == .pong)
    }
}
