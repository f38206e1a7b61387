import CartridgeClient
import CartridgeInference
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Foundation
import Testing

/// The chat cartridge as a user makes one: `cartridge burn --gguf`, `cartridged --image`, then CHAT
/// through the client library and the `cartridge chat` CLI; real processes throughout. The tiny
/// GGUF checks the plumbing on every machine; the real SmolLM2 answers a real question.
@Suite("chat cartridge: burn a GGUF, serve it, CHAT", .serialized, .timeLimit(.minutes(5)))
struct ChatCartridgeTests {
    /// Burns `gguf` with the CLI into `directory`; returns the image path.
    static func burn(_ gguf: String, in directory: TemporaryDirectory) async throws -> String {
        let image = directory.file("chat.cart")
        let burn = try ChildProcess("cartridge", ["burn", "--gguf", gguf, "-o", image, "--publisher", "tests"])
        let status = await burn.wait(timeout: .seconds(120))
        #expect(status == 0, "cartridge burn failed: \(burn.readErrors())")
        return image
    }

    static func tinyDaemon() async throws -> RunningDaemon {
        let directory = try TemporaryDirectory("chat-e2e")
        let gguf = try directory.write(try SyntheticGGUFModel.fileBytes(), to: "tiny.gguf")
        let image = try await burn(gguf, in: directory)
        return try await RunningDaemon(model: (["--image", image], directory))
    }

    static func chat(_ cartridge: CartridgeConnection, _ messages: [(String, String)], maximumTokens: UInt32 = 8, session: UInt32 = 0)
        async throws -> (text: String, tokens: [UInt32], summary: GenerationSummary)
    {
        try await cartridge.chat(
            ChatRequest(messages: messages.map { ChatMessage(role: $0.0, content: $0.1) }, maximumTokens: maximumTokens, session: session)
        ).collect()
    }

    @Test func theTinyGGUFChatsAndReportsItsCard() async throws {
        let daemon = try await Self.tinyDaemon()
        let cartridge = try await daemon.connect()
        #expect(cartridge.hello.capabilities.isSuperset(of: [.generate, .chat, .tokenize, .logprobs, .sessions]))
        let card = try await cartridge.info()
        #expect(card.family == "llama")
        #expect(card.name == "tiny-gguf")
        #expect(card.tokenizer == "gpt2-bpe/smollm")
        #expect(card.quantization == "ggml:q8_0")
        let (text, tokens, summary) = try await Self.chat(cartridge, [("user", "hello")], maximumTokens: 6)
        // The prompt is the template's rendering: system default + user turn + generation prompt.
        let rendered = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
        let expectedPrompt = try await cartridge.tokenize(rendered)
        #expect(summary.promptTokens == UInt32(expectedPrompt.count))
        #expect(tokens.count == Int(summary.generatedTokens))
        #expect(summary.stopReason == .maximumTokens || summary.stopReason == .endOfSequence)
        // The same conversation as a GENERATE of the rendered prompt gives the same tokens.
        let generated = try await cartridge.generate(GenerateRequest(prompt: .tokens(expectedPrompt), maximumTokens: 6)).collect()
        #expect(generated.tokens == tokens)
        #expect(generated.text == text)
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func logprobsAndEchoAreConsistent() async throws {
        let daemon = try await Self.tinyDaemon()
        let cartridge = try await daemon.connect()
        var prompt: [PromptToken] = []
        var generated: [GeneratedToken] = []
        let request = GenerateRequest(prompt: .text("the cat"), maximumTokens: 4, topLogprobs: 5, echo: true)
        for try await event in try await cartridge.generate(request) {
            switch event {
            case .promptToken(let token): prompt.append(token)
            case .token(let token): generated.append(token)
            case .done: break
            }
        }
        let ids = try await cartridge.tokenize("the cat")
        #expect(prompt.map(\.tokenID) == ids)
        #expect(prompt.first?.logprobs?.logprob.isNaN == true)
        for token in prompt.dropFirst() {
            let logprobs = try #require(token.logprobs)
            #expect(logprobs.top.count == 5)
            #expect(logprobs.logprob <= 0 && logprobs.logprob.isFinite)
            #expect(zip(logprobs.top, logprobs.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
        }
        #expect(generated.count == 4)
        for token in generated {
            let logprobs = try #require(token.logprobs)
            // Greedy: the chosen token is the most likely one.
            #expect(logprobs.top.first?.tokenID == token.tokenID)
            #expect(abs((logprobs.top.first?.logprob ?? 0) - logprobs.logprob) < 1e-6)
            let mass = logprobs.top.reduce(Float(0)) { $0 + exp($1.logprob) }
            #expect(mass > 0 && mass <= 1.0001)
        }
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func badChatsGetClearErrorsAndTheDaemonKeepsServing() async throws {
        let daemon = try await Self.tinyDaemon()
        let cartridge = try await daemon.connect()
        func expectError(_ code: ErrorCode, _ messages: [(String, String)], _ what: String) async {
            do {
                _ = try await Self.chat(cartridge, messages)
                Issue.record("\(what) was accepted")
            } catch let error as CartridgeClientError {
                #expect(error.deviceCode == code, "\(what): \(error)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        await expectError(.invalidArgument, [], "a CHAT without messages")
        await expectError(.invalidArgument, [("wizard", "hi")], "an unknown role")
        // Longer than the 256-token context of the tiny model.
        await expectError(.contextOverflow, [("user", String(repeating: "word ", count: 400))], "a conversation longer than the context")
        do {
            _ = try await cartridge.chat(ChatRequest(messages: [ChatMessage(role: "user", content: "hi")], maximumTokens: 4, topLogprobs: 21)).collect()
            Issue.record("top_logprobs 21 was accepted")
        } catch let error as CartridgeClientError {
            #expect(error.deviceCode == .invalidArgument, "\(error)")
        }
        // Invalid UTF-8 in a message: a raw frame (the client library cannot build one).
        let transport = try await daemon.rawConnection()
        var payload = ChatRequest(messages: [ChatMessage(role: "user", content: "ab")], maximumTokens: 4).payload()
        let index = payload.lastIndex(of: UInt8(ascii: "a"))!
        payload[index] = 0xC3
        payload[index + 1] = 0x28
        try await transport.send(Frame(type: .chat, requestID: 5, payload: payload).encoded())
        var decoder = FrameDecoder(maximumPayloadLength: 1 << 20)
        var reply: Frame?
        while reply == nil {
            decoder.append(try await transport.receive(maximumCount: 4096))
            if case .frame(let frame) = decoder.next() { reply = frame }
        }
        #expect(reply?.type == .error)
        #expect(try ErrorReply(payload: reply!.payload).code == .malformedPayload)
        transport.close()
        // Still serving.
        let (_, tokens, _) = try await Self.chat(cartridge, [("user", "still there?")], maximumTokens: 3)
        #expect(tokens.count == 3)
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func aThreeTurnChatReusesTheCache() async throws {
        let daemon = try await Self.tinyDaemon()
        let cartridge = try await daemon.connect()
        var messages: [(String, String)] = [("user", "first question")]
        var previousPrompt: UInt32 = 0
        for turn in 0..<3 {
            let (text, _, summary) = try await Self.chat(cartridge, messages, maximumTokens: 5, session: 1)
            if turn == 0 {
                #expect(summary.cachedPromptTokens == 0)
            } else {
                // Everything up to the previous prompt is reused (the previous answer's tokens may
                // be re-tokenized differently once they are text in the template).
                #expect(summary.cachedPromptTokens >= previousPrompt, "turn \(turn): \(summary)")
                #expect(summary.cachedPromptTokens < summary.promptTokens)
            }
            previousPrompt = summary.promptTokens
            messages.append(("assistant", text))
            messages.append(("user", "question \(turn + 2)"))
        }
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func theRealSmolLM2AnswersTheCapitalOfFrance() async throws {
        guard let gguf = DefaultChatModel.path else {
            print("skipping the SmolLM2 chat test: \(DefaultChatModel.skipReason)")
            return
        }
        let directory = try TemporaryDirectory("chat-smollm2")
        let image = try await Self.burn(gguf, in: directory)
        let inspect = try ChildProcess("cartridge", ["inspect", image])
        #expect(await inspect.wait(timeout: .seconds(120)) == 0)
        let listing = inspect.readOutput()
        #expect(listing.contains("quantization = ggml:q4_1+q8_0"), "\(listing)")
        #expect(listing.contains("source.gguf.sha256 = b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"), "\(listing)")
        #expect(listing.contains("apache-2.0"), "\(listing)")
        let daemon = try await RunningDaemon(model: (["--image", image], directory))
        let chat = try ChildProcess(
            "cartridge", ["chat", "-m", "What is the capital of France?", "-n", "24", "--stats", "--connect", "unix:\(daemon.socketPath)"])
        #expect(await chat.wait(timeout: .seconds(120)) == 0, "\(chat.readErrors())")
        let answer = chat.readOutput()
        #expect(answer.contains("Paris"), "answer: \(answer)")
        #expect(answer.contains("ttft="), "\(answer)")
        #expect(!answer.contains("<|im_end|>"), "the end-of-turn token is not printed")

        // CANCEL mid-answer: leaving the stream sends CANCEL; the next request is served.
        let cartridge = try await daemon.connect()
        var received = 0
        for try await event in try await cartridge.chat(
            ChatRequest(messages: [ChatMessage(role: "user", content: "Write a long story about a dragon.")], maximumTokens: 400))
        {
            if case .token = event { received += 1 }
            if received == 3 { break }
        }
        let (text, _, summary) = try await Self.chat(cartridge, [("user", "What is the capital of France?")], maximumTokens: 12)
        #expect(text.contains("Paris"), "after a cancelled answer: \(text)")
        #expect(summary.stopReason == .maximumTokens || summary.stopReason == .endOfSequence)
        cartridge.close()

        // CANCEL during a 2,000-token prompt: the prefill stops between layers; DONE(cancelled)
        // with no token, and the device serves the next request.
        let transport = try await daemon.rawConnection()
        var reader = RawFrameReader(transport)
        let long = [UInt32](repeating: 0, count: 2000).indices.map { UInt32(1000 + ($0 * 37) % 20000) }
        try await transport.send(GenerateRequest(prompt: .tokens(long), maximumTokens: 4).frame(requestID: 3).encoded())
        try await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock()
        let cancelledAt = clock.now
        try await transport.send(CancelRequest().frame(requestID: 3).encoded())
        let frame = try await reader.next()
        let latency = cancelledAt.duration(to: clock.now)
        #expect(frame.type == .done, "a token came before DONE: the whole prompt ran")
        let done = try GenerationSummary(payload: frame.payload)
        #expect(done.stopReason == .cancelled && done.generatedTokens == 0, "\(done)")
        print("CANCEL during a 2000-token SmolLM2 prefill answered after \(latency)")
        #expect(latency < .seconds(1), "CANCEL during the prompt took \(latency)")
        try await transport.send(PingPayload(bytes: [2]).frame(requestID: 4).encoded())
        #expect(try await reader.next() == Frame(type: .pong, requestID: 4, payload: [2]))
        transport.close()
        #expect(await daemon.stop() == 0)
    }
}
