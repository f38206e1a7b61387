import CartridgeClient
import CartridgeWire
import HTTPTypes
import Hummingbird
import NIOCore

/// What a generation's reader needs besides the stream: how to render it.
struct GenerationOptions: Sendable {
    /// Text to put before the generated text (`echo` without log-probabilities).
    var echoText: String?
    /// Echo the prompt from its PROMPT_TOKEN frames (`echo` with log-probabilities).
    var echoPromptTokens = false
    /// Log-probabilities asked for: alternatives per position.
    var logprobCount: Int?
    var includeUsage = false
}

/// /v1/completions and /v1/chat/completions: a generation on a leased cartridge, answered whole
/// or streamed as server-sent events.
extension GatewayResponder {
    func completions(_ request: CompletionRequest, context: GatewayRequestContext) async throws -> Response {
        let signal = await ClientDisconnectWatcher.signal(of: context.channel)
        let caller = self.caller
        let metrics = self.metrics
        /// Starts one prompt's generation; log-probabilities need a cartridge that reports them.
        @Sendable func start(_ prompt: Prompt) async throws -> ActiveGeneration {
            var generateRequest = request.generateRequest(for: prompt)
            if let count = request.logprobs {
                generateRequest.topLogprobs = LogprobResolver.requested(count)
                generateRequest.echo = request.echo
            }
            let wireRequest = generateRequest
            return try await caller.startGeneration(model: request.model, ability: .generate) { lease in
                if request.logprobs != nil, !lease.connection.hello.capabilities.contains(.logprobs) {
                    throw GatewayError(.invalidRequest, "'\(lease.card.name)' does not report log-probabilities", param: "logprobs")
                }
                return try await lease.connection.generate(wireRequest)
            }
        }
        @Sendable func options(_ prompt: Prompt, _ generation: ActiveGeneration) async throws -> GenerationOptions {
            var options = GenerationOptions(logprobCount: request.logprobs, includeUsage: request.includeUsage)
            if request.echo {
                if request.logprobs != nil {
                    options.echoPromptTokens = true
                } else {
                    options.echoText = try await GatewayResponder.echoText(prompt, lease: generation.lease)
                }
            }
            return options
        }
        if request.stream {
            let prompt = request.prompts[0]
            let (generation, streamOptions) = try await signal.unlessClientLeaves {
                let generation = try await start(prompt)
                return (generation, try await options(prompt, generation))
            }
            let formatter = CompletionFormatter(style: .text, model: pool.modelID(of: generation.lease.card.name), digest: generation.lease.card.imageDigest)
            return stream(generation, formatter: formatter, options: streamOptions, signal: signal)
        }
        let answer = try await signal.unlessClientLeaves { () async throws -> JSONValue in
            var choices: [CompletionFormatter.Choice] = []
            var promptTokens: UInt32 = 0
            var completionTokens: UInt32 = 0
            var formatter: CompletionFormatter?
            for prompt in request.prompts {
                let generation = try await start(prompt)
                let result = try await GatewayResponder.collect(generation, options: try await options(prompt, generation), metrics: metrics)
                formatter = formatter ?? CompletionFormatter(style: .text, model: pool.modelID(of: generation.lease.card.name), digest: generation.lease.card.imageDigest)
                choices.append(.init(
                    text: result.text, finishReason: CompletionFormatter.finishReason(result.summary.stopReason),
                    logprobs: request.logprobs == nil ? .null : LogprobEntry.completionLogprobs(result.entries)))
                promptTokens &+= result.summary.promptTokens
                completionTokens &+= result.summary.generatedTokens
            }
            return formatter!.completion(choices: choices, promptTokens: promptTokens, completionTokens: completionTokens)
        }
        return GatewayResponder.json(.ok, answer)
    }

    func chatCompletions(_ request: ChatCompletionRequest, context: GatewayRequestContext) async throws -> Response {
        let signal = await ClientDisconnectWatcher.signal(of: context.channel)
        let caller = self.caller
        let metrics = self.metrics
        let generation = try await signal.unlessClientLeaves {
            try await caller.startGeneration(model: request.model, ability: .chat) { lease in
                try await ChatCompletionMapper.start(request, on: lease.connection, card: lease.card)
            }
        }
        let formatter = CompletionFormatter(style: .chat, model: pool.modelID(of: generation.lease.card.name), digest: generation.lease.card.imageDigest)
        let options = GenerationOptions(logprobCount: request.logprobs ? request.topLogprobs : nil, includeUsage: request.includeUsage)
        if request.stream {
            return stream(generation, formatter: formatter, options: options, signal: signal)
        }
        let answer = try await signal.unlessClientLeaves { () async throws -> JSONValue in
            let result = try await GatewayResponder.collect(generation, options: options, metrics: metrics)
            return formatter.completion(
                choices: [.init(
                    text: result.text, finishReason: CompletionFormatter.finishReason(result.summary.stopReason),
                    logprobs: request.logprobs ? LogprobEntry.chatLogprobs(result.entries) : .null)],
                promptTokens: result.summary.promptTokens, completionTokens: result.summary.generatedTokens)
        }
        return GatewayResponder.json(.ok, answer)
    }

    /// The prompt as text, for `echo`.
    static func echoText(_ prompt: Prompt, lease: PoolLease) async throws -> String {
        switch prompt {
        case .text(let text): return text
        case .tokens(let tokens):
            guard lease.connection.hello.capabilities.contains(.tokenize) else {
                throw GatewayError(.invalidRequest, "'echo' with token-id prompts needs a cartridge with a tokenizer", param: "echo")
            }
            do { return try await lease.connection.detokenize(tokens) } catch {
                throw GatewayError(.invalidRequest, "cannot echo the prompt: \(error.message)", param: "prompt")
            }
        }
    }

    struct CollectedGeneration: Sendable {
        var text: String
        /// Per position (echoed prompt positions first) when log-probabilities were asked for.
        var entries: [LogprobEntry]
        var summary: GenerationSummary
    }

    /// Reads a whole generation: its text (with the echo), log-probability entries and summary.
    static func collect(_ generation: ActiveGeneration, options: GenerationOptions, metrics: GatewayMetrics) async throws -> CollectedGeneration {
        let resolver = options.logprobCount.map { LogprobResolver(connection: generation.lease.connection, count: $0) }
        return try await withEvents(of: generation, drained: resolver != nil) { next in
            try await collect(generation, next: next, options: options, resolver: resolver, metrics: metrics)
        }
    }

    /// Runs `body` over the generation's events. `drained`: a child task reads them into an
    /// unbounded buffer first, so a body that waits on the same connection (DETOKENIZE for the
    /// texts of log-probability alternatives) never stalls the connection's reader, whose
    /// back-pressure would otherwise wait for room while the reply it must deliver waits behind it.
    static func withEvents<Value: Sendable>(
        of generation: ActiveGeneration, drained: Bool,
        _ body: (_ next: () async throws -> GenerationEvent?) async throws -> Value
    ) async throws -> Value {
        guard drained else { return try await body { try await generation.next() } }
        let (events, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    while let event = try await generation.next() { continuation.yield(event) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            defer { group.cancelAll() }
            var iterator = events.makeAsyncIterator()
            return try await body { try await iterator.next() }
        }
    }

    private static func collect(
        _ generation: ActiveGeneration, next: () async throws -> GenerationEvent?, options: GenerationOptions, resolver: LogprobResolver?,
        metrics: GatewayMetrics
    ) async throws -> CollectedGeneration {
        var text = options.echoText ?? ""
        var entries: [LogprobEntry] = []
        while let event = try await next() {
            switch event {
            case .promptToken(let token):
                guard options.echoPromptTokens else { continue }
                text += token.text
                if let resolver { entries.append(await resolver.entry(text: token.text, tokenID: token.tokenID, logprobs: token.logprobs)) }
            case .token(let token):
                text += token.text
                if let resolver { entries.append(await resolver.entry(text: token.text, tokenID: token.tokenID, logprobs: token.logprobs)) }
            case .done(let summary):
                metrics.generationFinished(
                    model: generation.lease.card.name, promptTokens: summary.promptTokens, generatedTokens: summary.generatedTokens,
                    tokensPerSecond: summary.tokensPerSecond)
                return CollectedGeneration(text: text + summary.trailingText, entries: entries, summary: summary)
            }
        }
        throw GatewayError(.cartridgeFailed, "the generation ended without DONE")
    }

    /// The generation as server-sent events. The events are produced in a child task and written
    /// by the body writer, in batches (`EventBatcher`: at most one write per
    /// `streamWriteInterval`, so a fast cartridge does not cost a write and several thread
    /// wake-ups per token); a client that goes away (failed write or closed input) ends both, and
    /// releasing the generation sends CANCEL to the cartridge. A cartridge failure mid-stream ends
    /// the stream with an error event (OpenAI's error object) instead of [DONE].
    func stream(_ generation: ActiveGeneration, formatter: CompletionFormatter, options: GenerationOptions, signal: ClientDisconnectSignal) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"  // nginx: pass tokens on at once
        let metrics = self.metrics
        let interval = configuration.streamWriteInterval
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (batches, continuation) = AsyncStream.makeStream(of: [UInt8].self)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var batcher = EventBatcher(output: continuation, interval: interval)
                    await GatewayResponder.produceEvents(generation, formatter: formatter, options: options, metrics: metrics, into: &batcher)
                    batcher.flush()
                    continuation.finish()
                }
                group.addTask {
                    await signal.wait()
                    continuation.finish()
                }
                for await bytes in batches {
                    do { try await writer.write(ByteBuffer(bytes: bytes)) } catch { break }
                }
                group.cancelAll()
            }
            generation.finish()
            try? await writer.finish(nil)
        })
    }

    static func produceEvents(
        _ generation: ActiveGeneration, formatter: CompletionFormatter, options: GenerationOptions, metrics: GatewayMetrics,
        into output: inout EventBatcher
    ) async {
        let resolver = options.logprobCount.map { LogprobResolver(connection: generation.lease.connection, count: $0) }
        var offset = 0
        /// One position's chunk, with its log-probabilities when asked for.
        func emit(_ text: String, tokenID: UInt32, logprobs: TokenLogprobs?, into output: inout EventBatcher) async {
            var logprobsValue = JSONValue.null
            if let resolver {
                let entry = await resolver.entry(text: text, tokenID: tokenID, logprobs: logprobs)
                logprobsValue = formatter.style == .chat
                    ? LogprobEntry.chatLogprobs([entry]) : LogprobEntry.completionLogprobs([entry], offset: offset)
            } else if text.isEmpty {
                return
            }
            offset += text.utf8.count
            output.append(formatter.chunkEvent(text: text, finishReason: nil, logprobs: logprobsValue))
        }
        if formatter.style == .chat {
            output.append(ServerSentEvents.event(formatter.chunk(text: "", finishReason: nil, role: true)))
        }
        if let echo = options.echoText, !echo.isEmpty {
            output.append(ServerSentEvents.event(formatter.chunk(text: echo, finishReason: nil)))
            offset += echo.utf8.count
        }
        output.flush()
        // Log-probability streams read through a drained buffer (`withEvents`), which cannot
        // tell whether more has arrived: those are written event by event.
        let paced = resolver == nil
        do {
            try await withEvents(of: generation, drained: resolver != nil) { next in
            while let event = try await next() {
                switch event {
                case .promptToken(let token):
                    if options.echoPromptTokens { await emit(token.text, tokenID: token.tokenID, logprobs: token.logprobs, into: &output) }
                case .token(let token):
                    await emit(token.text, tokenID: token.tokenID, logprobs: token.logprobs, into: &output)
                case .done(let summary):
                    metrics.generationFinished(
                        model: generation.lease.card.name, promptTokens: summary.promptTokens,
                        generatedTokens: summary.generatedTokens, tokensPerSecond: summary.tokensPerSecond)
                    if !summary.trailingText.isEmpty {
                        output.append(ServerSentEvents.event(formatter.chunk(text: summary.trailingText, finishReason: nil)))
                    }
                    let finish = CompletionFormatter.finishReason(summary.stopReason)
                    output.append(ServerSentEvents.event(formatter.chunk(text: formatter.style == .chat ? nil : "", finishReason: finish)))
                    if options.includeUsage {
                        output.append(ServerSentEvents.event(formatter.usageChunk(promptTokens: summary.promptTokens, completionTokens: summary.generatedTokens)))
                    }
                    output.append(ServerSentEvents.done)
                    output.flush()
                    return
                }
                // Read on while events have arrived; then write what there is (paced).
                if !paced {
                    output.flush()
                } else if !generation.hasBufferedEvent {
                    _ = try await output.caughtUp { generation.hasBufferedEvent }
                }
            }
            output.append(ServerSentEvents.event(GatewayError(.cartridgeFailed, "the generation ended without DONE").json))
            }
        } catch let error as GatewayError {
            output.append(ServerSentEvents.event(error.json))
        } catch is CancellationError {
            // The client went away; nobody reads this stream.
        } catch {
            output.append(ServerSentEvents.event(GatewayError(.cartridgeFailed, GatewayError.clientMessage(error)).json))
        }
    }
}
