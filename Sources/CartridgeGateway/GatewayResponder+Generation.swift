import CartridgeClient
import CartridgeWire
import HTTPTypes
import Hummingbird
import NIOCore

/// /v1/completions and /v1/chat/completions: a generation on a leased cartridge, answered whole
/// or streamed as server-sent events.
extension GatewayResponder {
    func completions(_ request: CompletionRequest, context: GatewayRequestContext) async throws -> Response {
        if request.logprobs != nil {
            throw GatewayError(
                .notImplemented, "'logprobs' needs cartridges that report log-probabilities; this gateway's cartridges do not yet",
                param: "logprobs")
        }
        let signal = await ClientDisconnectWatcher.signal(of: context.channel)
        let caller = self.caller
        if request.stream {
            let prompt = request.prompts[0]
            let generateRequest = request.generateRequest(for: prompt)
            let generation = try await signal.unlessClientLeaves {
                try await caller.startGeneration(model: request.model, ability: .generate) { try await $0.generate(generateRequest) }
            }
            let echo = request.echo ? try await GatewayResponder.echoText(prompt, lease: generation.lease) : nil
            let formatter = CompletionFormatter(style: .text, model: request.model, digest: generation.lease.card.imageDigest)
            return stream(generation, formatter: formatter, echo: echo, includeUsage: request.includeUsage, signal: signal)
        }
        let metrics = self.metrics
        let answer = try await signal.unlessClientLeaves { () async throws -> JSONValue in
            var choices: [CompletionFormatter.Choice] = []
            var promptTokens: UInt32 = 0
            var completionTokens: UInt32 = 0
            var formatter: CompletionFormatter?
            for prompt in request.prompts {
                let generateRequest = request.generateRequest(for: prompt)
                let generation = try await caller.startGeneration(model: request.model, ability: .generate) {
                    try await $0.generate(generateRequest)
                }
                let echo = request.echo ? try await GatewayResponder.echoText(prompt, lease: generation.lease) : ""
                let (text, summary) = try await GatewayResponder.collect(generation, metrics: metrics)
                formatter = formatter ?? CompletionFormatter(style: .text, model: request.model, digest: generation.lease.card.imageDigest)
                choices.append(.init(text: echo + text, finishReason: CompletionFormatter.finishReason(summary.stopReason)))
                promptTokens &+= summary.promptTokens
                completionTokens &+= summary.generatedTokens
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
            try await caller.startGeneration(model: request.model, ability: .chat) { connection in
                try await ChatCompletionMapper.start(request, on: connection, model: request.model)
            }
        }
        let formatter = CompletionFormatter(style: .chat, model: request.model, digest: generation.lease.card.imageDigest)
        if request.stream {
            return stream(generation, formatter: formatter, echo: nil, includeUsage: request.includeUsage, signal: signal)
        }
        let answer = try await signal.unlessClientLeaves { () async throws -> JSONValue in
            let (text, summary) = try await GatewayResponder.collect(generation, metrics: metrics)
            return formatter.completion(
                choices: [.init(text: text, finishReason: CompletionFormatter.finishReason(summary.stopReason))],
                promptTokens: summary.promptTokens, completionTokens: summary.generatedTokens)
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

    /// Reads a whole generation: its text and summary.
    static func collect(_ generation: ActiveGeneration, metrics: GatewayMetrics) async throws -> (String, GenerationSummary) {
        var text = ""
        while let event = try await generation.next() {
            switch event {
            case .token(let token): text += token.text
            case .done(let summary):
                metrics.generationFinished(
                    model: generation.lease.card.name, promptTokens: summary.promptTokens, generatedTokens: summary.generatedTokens,
                    tokensPerSecond: summary.tokensPerSecond)
                return (text + summary.trailingText, summary)
            }
        }
        throw GatewayError(.cartridgeFailed, "the generation ended without DONE")
    }

    /// The generation as server-sent events. The events are produced in a child task and written
    /// by the body writer; a client that goes away (failed write or closed input) ends both, and
    /// releasing the generation sends CANCEL to the cartridge. A cartridge failure mid-stream ends
    /// the stream with an error event (OpenAI's error object) instead of [DONE].
    func stream(
        _ generation: ActiveGeneration, formatter: CompletionFormatter, echo: String?, includeUsage: Bool, signal: ClientDisconnectSignal
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        let metrics = self.metrics
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (events, continuation) = AsyncStream.makeStream(of: [UInt8].self)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await GatewayResponder.produceEvents(
                        generation, formatter: formatter, echo: echo, includeUsage: includeUsage, metrics: metrics, into: continuation)
                    continuation.finish()
                }
                group.addTask {
                    await signal.wait()
                    continuation.finish()
                }
                for await bytes in events {
                    do { try await writer.write(ByteBuffer(bytes: bytes)) } catch { break }
                }
                group.cancelAll()
            }
            generation.finish()
            try? await writer.finish(nil)
        })
    }

    static func produceEvents(
        _ generation: ActiveGeneration, formatter: CompletionFormatter, echo: String?, includeUsage: Bool, metrics: GatewayMetrics,
        into output: AsyncStream<[UInt8]>.Continuation
    ) async {
        if formatter.style == .chat {
            output.yield(ServerSentEvents.event(formatter.chunk(text: "", finishReason: nil, role: true)))
        }
        if let echo, !echo.isEmpty {
            output.yield(ServerSentEvents.event(formatter.chunk(text: echo, finishReason: nil)))
        }
        do {
            while let event = try await generation.next() {
                switch event {
                case .token(let token):
                    guard !token.text.isEmpty else { continue }
                    output.yield(ServerSentEvents.event(formatter.chunk(text: token.text, finishReason: nil)))
                case .done(let summary):
                    metrics.generationFinished(
                        model: generation.lease.card.name, promptTokens: summary.promptTokens,
                        generatedTokens: summary.generatedTokens, tokensPerSecond: summary.tokensPerSecond)
                    if !summary.trailingText.isEmpty {
                        output.yield(ServerSentEvents.event(formatter.chunk(text: summary.trailingText, finishReason: nil)))
                    }
                    let finish = CompletionFormatter.finishReason(summary.stopReason)
                    output.yield(ServerSentEvents.event(formatter.chunk(text: formatter.style == .chat ? nil : "", finishReason: finish)))
                    if includeUsage {
                        output.yield(ServerSentEvents.event(formatter.usageChunk(promptTokens: summary.promptTokens, completionTokens: summary.generatedTokens)))
                    }
                    output.yield(ServerSentEvents.done)
                    return
                }
            }
            output.yield(ServerSentEvents.event(GatewayError(.cartridgeFailed, "the generation ended without DONE").json))
        } catch let error as GatewayError {
            output.yield(ServerSentEvents.event(error.json))
        } catch is CancellationError {
            // The client went away; nobody reads this stream.
        } catch {
            output.yield(ServerSentEvents.event(GatewayError(.cartridgeFailed, "\(error)").json))
        }
    }
}
