import ArgumentParser
import CartridgeClient
import CartridgeTransport
import CartridgeWire
import Foundation

/// `llm compare --first-token`: time to first token of a ~200-token chat prompt against
/// `llama-server -np 1` and `cartridged --gguf FILE`, cold and with the system prompt already
/// seen (prompt-prefix cache), plus how fast cartridged answers a CANCEL during a long prefill.
///
/// Each run starts a fresh server, waits until it answers and sends one untimed warm-up chat
/// ("Hi"). Then, timed from sending the request to its first generated token:
/// - cold: the system prompt and question A (nothing of it cached but the template's first tokens);
/// - warm: the same system prompt and question B (the server may reuse the system prompt's KV).
/// Both engines render the GGUF's own chat template and generate greedily; llama-server gets
/// `/v1/chat/completions` with `max_tokens: 1` and `cache_prompt: true` (its default), cartridged
/// CHAT with `maximum_tokens: 1` over its Unix socket. The prompt token counts each engine reports
/// are printed so the prompts can be seen to be equal.
/// Then cartridged only: GENERATE with a 2,000-token prompt, CANCEL 300 ms later, timed until
/// DONE(cancelled) arrives (three times per run).
struct FirstTokenComparison {
    var models: [String]
    var threadCounts: [Int]
    var rounds: Int
    var llamaServer: String
    var cartridged: String
    var firstPort: Int
    var workDirectory: String

    static let systemPrompt = """
        You are the assistant of a small public library in a coastal town. You answer questions from \
        visitors about opening hours, borrowing rules, events and the local history collection. The \
        library opens at nine in the morning and closes at six in the evening from Monday to Friday, \
        and at one in the afternoon on Saturday; it is closed on Sunday. Visitors may borrow up to \
        eight books for three weeks and renew them twice unless someone else has reserved them. The \
        history collection holds maps, ship logs and photographs of the harbour since 1850 and can be \
        consulted in the reading room only. Every Thursday evening there is a reading club, and on the \
        first Saturday of each month a workshop for children. Answer briefly, politely and precisely.
        """
    static let questionA = "Hello! I would like to know whether I can take the old harbour photographs home for a school project next week, and until what time the library is open on Saturday."
    static let questionB = "Good afternoon. How many books can my daughter borrow at once, and can she renew them if nobody else has asked for them in the meantime?"

    struct Run {
        var coldMilliseconds: Double
        var warmMilliseconds: Double
        var coldPromptTokens: Int
        var warmPromptTokens: Int
        /// Prompt tokens the engine says it reused in the warm request (nil: not reported).
        var warmCachedTokens: Int?
        var cancelMilliseconds: [Double] = []
    }

    func run() async throws {
        let conditions = LLMSpeedComparison.conditions()
        var port = firstPort
        var llama: [String: [Run]] = [:]
        var ours: [String: [Run]] = [:]
        for model in models {
            for threads in threadCounts {
                for round in 1...rounds {
                    let key = "\(model)|\(threads)"
                    let llamaRun = try await runLlamaServer(model: model, threads: threads, port: port)
                    port += 1
                    llama[key, default: []].append(llamaRun)
                    let ourRun = try await runCartridged(model: model, threads: threads)
                    ours[key, default: []].append(ourRun)
                    LLMSpeedComparison.progress(
                        "round \(round)/\(rounds) \(LLMSpeedComparison.label(model)) t=\(threads): llama-server \(Self.describe(llamaRun)); "
                            + "cartridged \(Self.describe(ourRun)), cancel \(ourRun.cancelMilliseconds.map { LLMSpeedComparison.show($0, digits: 1) }.joined(separator: "/")) ms")
                }
            }
        }

        print("")
        print("Time to first token of a chat prompt (system prompt + question), llama-server -np 1 against cartridged, \(conditions)")
        print("cold: system prompt + question A on a fresh server (after one warm-up chat); warm: the same system prompt + question B "
            + "(prefix reuse). Milliseconds from sending the request to the first generated token; median over \(rounds) interleaved round(s); "
            + "ratio = cartridged / llama-server per round, then median (below 1: cartridged is faster).")
        print("")
        print("| model | threads | prompt tokens (llama-server / cartridged) | cold ms llama-server | cold ms cartridged | cold ratio | warm ms llama-server | warm ms cartridged | warm ratio | cached tokens (llama-server / cartridged) | CANCEL during a 2,000-token prefill: ms to DONE (median / max) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for model in models {
            for threads in threadCounts {
                let key = "\(model)|\(threads)"
                let llamaRuns = llama[key] ?? []
                let ourRuns = ours[key] ?? []
                let median = { (values: [Double]) in LLMSpeedComparison.show(LLMSpeedReport.median(values), digits: 1) }
                let coldRatio = LLMSpeedReport.median(zip(ourRuns, llamaRuns).map { $0.coldMilliseconds / $1.coldMilliseconds })
                let warmRatio = LLMSpeedReport.median(zip(ourRuns, llamaRuns).map { $0.warmMilliseconds / $1.warmMilliseconds })
                let cancels = ourRuns.flatMap(\.cancelMilliseconds)
                var line = "| \(LLMSpeedComparison.label(model)) | \(threads) | "
                line += "\(llamaRuns.first.map { "\($0.coldPromptTokens), \($0.warmPromptTokens)" } ?? "-") / \(ourRuns.first.map { "\($0.coldPromptTokens), \($0.warmPromptTokens)" } ?? "-") | "
                line += "\(median(llamaRuns.map(\.coldMilliseconds))) | \(median(ourRuns.map(\.coldMilliseconds))) | \(LLMSpeedComparison.show(coldRatio, digits: 2, suffix: "×")) | "
                line += "\(median(llamaRuns.map(\.warmMilliseconds))) | \(median(ourRuns.map(\.warmMilliseconds))) | \(LLMSpeedComparison.show(warmRatio, digits: 2, suffix: "×")) | "
                line += "\(llamaRuns.first?.warmCachedTokens.map(String.init) ?? "?") / \(ourRuns.first?.warmCachedTokens.map(String.init) ?? "?") | "
                line += "\(median(cancels)) / \(LLMSpeedComparison.show(cancels.max(), digits: 1)) |"
                print(line)
            }
        }
        print("")
        print("llama-server: -np 1 -t T -c 4096, POST /v1/chat/completions {messages, max_tokens: 1, temperature: 0, cache_prompt: true}. "
            + "cartridged: --gguf FILE --socket PATH --threads T, CHAT(maximum_tokens 1, greedy); CANCEL: GENERATE(2,000 prompt tokens, 4 tokens), CANCEL after 300 ms.")
        print("Conditions at the end: \(LLMSpeedComparison.conditions())")
    }

    static func describe(_ run: Run) -> String {
        "cold \(LLMSpeedComparison.show(run.coldMilliseconds, digits: 1)) ms (\(run.coldPromptTokens) tok), "
            + "warm \(LLMSpeedComparison.show(run.warmMilliseconds, digits: 1)) ms (\(run.warmPromptTokens) tok, \(run.warmCachedTokens.map(String.init) ?? "?") cached)"
    }

    static func messages(_ question: String) -> [(role: String, content: String)] {
        [("system", systemPrompt), ("user", question)]
    }

    // MARK: llama-server

    func runLlamaServer(model: String, threads: Int, port: Int) async throws -> Run {
        let arguments = ["-m", model, "-np", "1", "-t", String(threads), "-c", "4096", "--host", "127.0.0.1", "--port", String(port), "--no-webui"]
        let server = try ChildProcess.spawn(llamaServer, arguments, outputPrefix: "\(workDirectory)/llama-server-ttft")
        let client = LoopbackHTTPClient(port: UInt16(port))
        do {
            try await StreamThroughputComparison.waitUntilReady(server, name: "llama-server") { (try? client.get("/health"))?.status == 200 }
            _ = try await StreamThroughputComparison.onDedicatedThread { try Self.chat(client, [("user", "Hi")]) }
            let cold = try await StreamThroughputComparison.onDedicatedThread { try Self.chat(client, Self.messages(Self.questionA)) }
            let warm = try await StreamThroughputComparison.onDedicatedThread { try Self.chat(client, Self.messages(Self.questionB)) }
            _ = try server.stop()
            return Run(
                coldMilliseconds: cold.milliseconds, warmMilliseconds: warm.milliseconds, coldPromptTokens: cold.promptTokens,
                warmPromptTokens: warm.promptTokens, warmCachedTokens: warm.cachedTokens)
        } catch {
            _ = try? server.stop(grace: 2)
            throw error
        }
    }

    /// One non-streamed chat completion of one token: wall milliseconds, prompt tokens, cached tokens.
    static func chat(_ client: LoopbackHTTPClient, _ messages: [(role: String, content: String)]) throws -> (milliseconds: Double, promptTokens: Int, cachedTokens: Int?) {
        let request: [String: Any] = [
            "messages": messages.map { ["role": $0.role, "content": $0.content] }, "max_tokens": 1, "temperature": 0, "cache_prompt": true,
        ]
        let body = try JSONSerialization.data(withJSONObject: request)
        let clock = ContinuousClock()
        let started = clock.now
        let response = try client.post("/v1/chat/completions", json: Array(body))
        let milliseconds = LLMSpeedCommand.seconds(clock.now - started) * 1000
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let usage = object["usage"] as? [String: Any], let promptTokens = usage["prompt_tokens"] as? Int
        else {
            throw ValidationError("llama-server /v1/chat/completions answered \(response.status): \(response.text.prefix(300))")
        }
        // llama-server reports the reused prefix as timings.cache_n (prompt_n is what it evaluated).
        let cached = ((object["timings"] as? [String: Any])?["cache_n"] as? Int)
            ?? ((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int)
        return (milliseconds, promptTokens, cached)
    }

    // MARK: cartridged

    func runCartridged(model: String, threads: Int) async throws -> Run {
        let socket = "\(workDirectory)/cartridged-ttft.sock"
        let arguments = ["--gguf", model, "--socket", socket, "--threads", String(threads), "--log-level", "warning"]
        let server = try ChildProcess.spawn(cartridged, arguments, outputPrefix: "\(workDirectory)/cartridged-ttft")
        var connection: CartridgeConnection?
        do {
            let uri = try CartridgeURI(parsing: "unix:" + socket)
            try await StreamThroughputComparison.waitUntilReady(server, name: "cartridged") {
                connection = try? await CartridgeConnection.connect(to: uri)
                return connection != nil
            }
            let cartridge = connection!
            _ = try await Self.chat(cartridge, [("user", "Hi")])
            let cold = try await Self.chat(cartridge, Self.messages(Self.questionA))
            let warm = try await Self.chat(cartridge, Self.messages(Self.questionB))
            cartridge.close()
            var run = Run(
                coldMilliseconds: cold.milliseconds, warmMilliseconds: warm.milliseconds, coldPromptTokens: cold.promptTokens,
                warmPromptTokens: warm.promptTokens, warmCachedTokens: warm.cachedTokens)
            for attempt in 0..<3 { run.cancelMilliseconds.append(try await Self.cancelDuringPrefill(socket: socket, requestID: UInt32(10 + attempt))) }
            _ = try server.stop()
            return run
        } catch {
            connection?.close()
            _ = try? server.stop(grace: 2)
            throw error
        }
    }

    /// One CHAT of one token: milliseconds to the first token, prompt and cached prompt tokens (from DONE).
    static func chat(_ connection: CartridgeConnection, _ messages: [(role: String, content: String)]) async throws -> (milliseconds: Double, promptTokens: Int, cachedTokens: Int?) {
        let request = ChatRequest(messages: messages.map { ChatMessage(role: $0.role, content: $0.content) }, maximumTokens: 1, temperature: 0)
        let clock = ContinuousClock()
        let started = clock.now
        var firstToken: Double?
        for try await event in try await connection.chat(request) {
            switch event {
            case .token:
                if firstToken == nil { firstToken = LLMSpeedCommand.seconds(clock.now - started) * 1000 }
            case .done(let summary):
                guard let firstToken else { throw ValidationError("cartridged answered the chat without a token: \(summary)") }
                return (firstToken, Int(summary.promptTokens), Int(summary.cachedPromptTokens))
            case .promptToken:
                continue
            }
        }
        throw ValidationError("cartridged's chat stream ended without DONE")
    }

    /// GENERATE with a 2,000-token prompt on a raw connection, CANCEL after 300 ms: milliseconds
    /// from sending CANCEL to DONE(cancelled).
    static func cancelDuringPrefill(socket: String, requestID: UInt32) async throws -> Double {
        let transport = try await UnixSocketTransport.connect(path: socket)
        defer { transport.close() }
        var reader = RawFrameReader(transport)
        try await transport.send(HelloRequest(maximumPayloadLength: 1 << 20, clientName: "cartridge-bench").frame(requestID: 1).encoded())
        let hello = try await reader.next()
        guard hello.type == .helloReply else { throw ValidationError("HELLO answered with \(hello.type)") }
        let prompt = (0..<2000).map { UInt32(1000 + ($0 * 37) % 20_000) }
        try await transport.send(GenerateRequest(prompt: .tokens(prompt), maximumTokens: 4).frame(requestID: requestID).encoded())
        try await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock()
        let cancelled = clock.now
        try await transport.send(CancelRequest().frame(requestID: requestID).encoded())
        while true {
            let frame = try await reader.next()
            guard frame.requestID == requestID else { continue }
            if frame.type == .done {
                let summary = try GenerationSummary(payload: frame.payload)
                guard summary.stopReason == .cancelled else { throw ValidationError("the long prompt ended with \(summary.stopReason), not cancelled") }
                return LLMSpeedCommand.seconds(clock.now - cancelled) * 1000
            }
            if frame.type == .token { throw ValidationError("a token came before DONE: the whole 2,000-token prompt ran before the CANCEL was seen") }
        }
    }
}
