import CartridgeSystem
import CartridgeTransport
import CartridgeWire
import Logging
import Synchronization

/// Serves one host connection: decodes its bytes through `DeviceSession`, runs its requests
/// concurrently (multiplexed by request id), and ends them all when the host goes away.
final class ConnectionHandler: Sendable {
    private let transport: any CartridgeTransport
    private let sender: SerializedSender
    private let context: ServerContext
    private let session: Mutex<DeviceSession>
    private let controls = Mutex<[UInt32: RequestControl]>([:])
    private let sessions: Mutex<[UInt32: SessionSlot]>
    private let shuttingDown = Atomic<Bool>(false)
    private let logger: Logger

    /// A KV-cache context kept between GENERATE requests; `busy` while a request uses it.
    private struct SessionSlot {
        var context: any GenerationContext
        var busy: Bool
    }

    init(transport: any CartridgeTransport, context: ServerContext) {
        self.transport = transport
        self.sender = SerializedSender(transport: transport)
        self.context = context
        var logger = context.logger
        logger[metadataKey: "connection"] = "\(transport.peerDescription)"
        self.logger = logger
        let card = context.model.card
        session = Mutex(
            DeviceSession(
                limits: context.configuration.limits,
                capabilities: context.model.capabilities.union(.power),
                deviceName: context.configuration.deviceName, imageDigest: card.imageDigest))
        sessions = Mutex([:])
    }

    func run() async {
        logger.info("host connected")
        await withDiscardingTaskGroup { group in
            reading: while true {
                let bytes: [UInt8]
                do {
                    bytes = try await transport.receive(maximumCount: 64 * 1024)
                } catch {
                    if (error as? TransportError)?.code != .closed { logger.info("connection ended", metadata: ["reason": "\(error)"]) }
                    break
                }
                if bytes.isEmpty { break }
                let actions = session.withLock { session -> [DeviceSession.Action] in
                    session.receive(bytes)
                    var actions: [DeviceSession.Action] = []
                    while let action = session.nextAction() { actions.append(action) }
                    return actions
                }
                for action in actions {
                    switch action {
                    case .send(let frame):
                        if frame.type == .error { logger.debug("protocol error", metadata: ["frame": "\(frame)"]) }
                        do { try await sender.send(frame.encoded()) } catch { break reading }
                    case .cancel(let id):
                        controls.withLock { $0[id] }?.stop(.cancelled)
                    case .start(let id, let request):
                        if shuttingDown.load(ordering: .relaxed) {
                            let refusal = ErrorReply(.shuttingDown, "the daemon is shutting down")
                            try? await sender.send(refusal.frame(requestID: id).encoded())
                            finish(id)
                            continue
                        }
                        let control = RequestControl()
                        controls.withLock { $0[id] = control }
                        group.addTask {
                            await self.serve(request, id: id, control: control)
                            self.finish(id)
                        }
                    }
                }
            }
            // The host went away (or we are closing): stop everything it had in flight.
            stopAll(.cancelled)
        }
        transport.close()
        logger.info("host disconnected")
    }

    /// Graceful shutdown: refuse new requests, end streams with DONE(shutdown), then close the
    /// connection once nothing is in flight.
    func beginShutdown() {
        shuttingDown.store(true, ordering: .relaxed)
        stopAll(.shutdown)
        if controls.withLock({ $0.isEmpty }) { transport.close() }
    }

    /// Closes the connection now (a host that does not read its last frames).
    func forceClose() {
        stopAll(.shutdown)
        transport.close()
    }

    private func stopAll(_ reason: StopReason) {
        for control in controls.withLock({ Array($0.values) }) { control.stop(reason) }
    }

    private func finish(_ id: UInt32) {
        let idle = controls.withLock { controls -> Bool in
            controls.removeValue(forKey: id)
            return controls.isEmpty
        }
        session.withLock { $0.finish(requestID: id) }
        if idle && shuttingDown.load(ordering: .relaxed) { transport.close() }
    }

    // MARK: Requests

    private func serve(_ request: DeviceRequest, id: UInt32, control: RequestControl) async {
        do {
            switch request {
            case .info:
                try await reply(context.model.card.frame(requestID: id))
            case .tokenize(let tokenize):
                try require(.tokenize, "TOKENIZE")
                let model = context.model
                let tokens = try await context.infer { () throws(ModelError) in
                    try model.tokenize(tokenize.text, options: tokenize.options)
                }
                try await reply(TokenList(tokens: tokens).frame(requestID: id))
            case .detokenize(let detokenize):
                try require(.tokenize, "DETOKENIZE")
                let model = context.model
                let text = try await context.infer { () throws(ModelError) in try model.detokenize(detokenize.tokens) }
                try await reply(TextReply(text: text).frame(requestID: id))
            case .embed(let embed):
                try require(.embed, "EMBED")
                guard !embed.sentences.isEmpty else { throw ErrorReply(.invalidArgument, "EMBED needs at least one sentence") }
                let model = context.model
                let vectors = try await context.infer { () throws(ModelError) in try model.embed(embed.sentences) }
                try await reply(EmbeddingsReply(vectors: vectors).frame(requestID: id))
            case .power(let subscribe):
                try await servePower(id: id, subscribe: subscribe, control: control)
            case .generate(let generate):
                try require(.generate, "GENERATE")
                try await serveGeneration(GenerationSpec(generate), id: id, control: control)
            case .chat(let chat):
                try require(.chat, "CHAT")
                guard !chat.messages.isEmpty else { throw ErrorReply(.invalidArgument, "CHAT needs at least one message") }
                let model = context.model
                let messages = chat.messages
                let tokens = try await context.infer { () throws(ModelError) in try model.chatPrompt(messages) }
                try await serveGeneration(GenerationSpec(chat, promptTokens: tokens), id: id, control: control)
            }
        } catch let error as ErrorReply {
            try? await reply(error.frame(requestID: id))
        } catch {
            // The transport failed while replying: the read loop sees the disconnect too.
            logger.debug("reply failed", metadata: ["request": "\(id)", "error": "\(error)"])
        }
    }

    private func require(_ capability: Capabilities, _ name: String) throws(ErrorReply) {
        guard context.model.capabilities.contains(capability) else {
            throw ErrorReply(.unsupported, "\(name) is not supported by this cartridge's model (\(context.model.card.family))")
        }
    }

    /// Sends a final or stream frame, replacing it by PAYLOAD_TOO_LARGE if it exceeds the negotiated limit.
    private func reply(_ frame: Frame) async throws(TransportError) {
        let limit = session.withLock { $0.maximumPayloadLength }
        if frame.payload.count > Int(limit) {
            let error = ErrorReply(
                .payloadTooLarge,
                "the \(frame.type.name) reply would be \(frame.payload.count) bytes, above the negotiated \(limit)")
            try await sender.send(error.frame(requestID: frame.requestID).encoded())
            return
        }
        try await sender.send(frame.encoded())
    }

    private func servePower(id: UInt32, subscribe: Bool, control: RequestControl) async throws {
        let power = context.power
        let changes = subscribe ? power.changes() : nil
        var sentSequence = power.status.sequence
        try await reply(power.status.frame(requestID: id))
        guard let changes else { return }
        var iterator = changes.stream.makeAsyncIterator()
        control.onStop(changes.finish)
        while let status = await iterator.next() {
            if control.stopReason != nil { break }
            if status.sequence == sentSequence { continue }
            sentSequence = status.sequence
            try await reply(status.frame(requestID: id))
        }
        let summary = GenerationSummary(
            stopReason: control.stopReason ?? .cancelled, promptTokens: 0, cachedPromptTokens: 0, generatedTokens: 0,
            timeToFirstTokenMicroseconds: 0, totalMicroseconds: 0, tokensPerSecond: 0)
        try await reply(summary.frame(requestID: id))
    }

    private func serveGeneration(_ request: GenerationSpec, id: UInt32, control: RequestControl) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        guard request.maximumTokens > 0 else { throw ErrorReply(.invalidArgument, "maximum_tokens must be at least 1") }
        guard request.topLogprobs <= TokenLogprobs.maximumTopCount else {
            throw ErrorReply(.invalidArgument, "top_logprobs is \(request.topLogprobs); at most \(TokenLogprobs.maximumTopCount)")
        }
        guard context.generationSlots.tryAcquire() else {
            throw ErrorReply(
                .busy, "\(context.generationSlots.capacity) generations are already running on this cartridge")
        }
        defer { context.generationSlots.release() }
        let generation = try claimContext(session: request.session)
        defer { releaseContext(session: request.session) }

        let accounting = try await context.infer { () throws(ModelError) in try generation.start(request) }
        for echoed in accounting.echoed {
            if control.stopReason != nil { break }
            try await reply(echoed.frame(requestID: id))
        }
        var generated: UInt32 = 0
        var firstTokenAt: ContinuousClock.Instant?
        var lastTokenAt = started
        var stopReason = StopReason.maximumTokens
        var trailingText = ""
        generating: while true {
            if let reason = control.stopReason {
                stopReason = reason
                break
            }
            if generated >= request.maximumTokens {
                stopReason = .maximumTokens
                break
            }
            let step = try await context.infer { () throws(ModelError) in try generation.next() }
            switch step {
            case .finished(let reason, let text):
                stopReason = reason
                trailingText = text
                break generating
            case .token(let tokenID, let text, let logprobs):
                if let cap = context.power.tokensPerSecondCap, firstTokenAt != nil {
                    let interval = Duration.seconds(1.0 / cap)
                    let wait = clock.now.duration(to: lastTokenAt.advanced(by: interval))
                    if wait > .zero { await control.sleep(for: wait) }
                }
                try await reply(GeneratedToken(index: generated, tokenID: tokenID, text: text, logprobs: logprobs).frame(requestID: id))
                generated += 1
                lastTokenAt = clock.now
                if firstTokenAt == nil { firstTokenAt = lastTokenAt }
            }
        }
        let decodeSeconds = firstTokenAt.map { $0.duration(to: lastTokenAt).seconds } ?? 0
        let summary = GenerationSummary(
            stopReason: stopReason, promptTokens: UInt32(accounting.promptTokens),
            cachedPromptTokens: UInt32(accounting.cachedTokens), generatedTokens: generated,
            timeToFirstTokenMicroseconds: firstTokenAt.map { started.duration(to: $0).microseconds } ?? 0,
            totalMicroseconds: started.duration(to: clock.now).microseconds,
            tokensPerSecond: generated > 1 && decodeSeconds > 0 ? Float(Double(generated - 1) / decodeSeconds) : 0,
            trailingText: trailingText)
        try await reply(summary.frame(requestID: id))
        logger.debug(
            "generation done",
            metadata: ["request": "\(id)", "tokens": "\(generated)", "reason": "\(stopReason)"])
    }

    /// The context for a GENERATE: fresh for session 0, else the connection's kept session.
    private func claimContext(session id: UInt32) throws(ErrorReply) -> any GenerationContext {
        if id == 0 {
            do { return try context.model.makeGenerationContext() } catch { throw ErrorReply(error.code, error.message) }
        }
        let limit = context.configuration.maximumSessionsPerConnection
        let claimed: Result<(any GenerationContext)?, ErrorReply> = sessions.withLock { sessions in
            if var slot = sessions[id] {
                if slot.busy { return .failure(ErrorReply(.busy, "session \(id) is in use by another request")) }
                slot.busy = true
                sessions[id] = slot
                return .success(slot.context)
            }
            if sessions.count >= limit {
                return .failure(ErrorReply(.busy, "this connection already keeps \(limit) sessions"))
            }
            return .success(nil)
        }
        switch claimed {
        case .failure(let error): throw error
        case .success(.some(let existing)): return existing
        case .success(.none):
            let fresh: any GenerationContext
            do { fresh = try context.model.makeGenerationContext() } catch { throw ErrorReply(error.code, error.message) }
            sessions.withLock { $0[id] = SessionSlot(context: fresh, busy: true) }
            return fresh
        }
    }

    private func releaseContext(session id: UInt32) {
        guard id != 0 else { return }
        sessions.withLock { sessions in sessions[id]?.busy = false }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    var microseconds: UInt32 { UInt32(clamping: Int64(seconds * 1e6)) }
}
