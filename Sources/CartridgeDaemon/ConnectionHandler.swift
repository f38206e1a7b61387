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
    private let connectedAt = ContinuousClock.now
    /// EMBED work per turn on the inference thread (at most this many sentences and bytes of text,
    /// at least one sentence): a CANCEL or a disconnect waits for one chunk, not the batch.
    static let embedChunk = 8
    static let embedChunkBytes = 2048

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
                            session.withLock { $0.finish(requestID: id) }
                            try? await sender.send(refusal.frame(requestID: id).encoded())
                            closeIfIdleAndShuttingDown()
                            continue
                        }
                        let control = RequestControl()
                        controls.withLock { $0[id] = control }
                        group.addTask {
                            await self.serve(request, id: id, control: control)
                            // Normally released already, just before the final frame went out.
                            self.release(id, control: control)
                            self.closeIfIdleAndShuttingDown()
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

    /// Frees the request's id (once): the host may reuse it as soon as it has read the final
    /// frame, so this runs just before that frame is sent (PROTOCOL.md 4: "After the final frame
    /// the id is free"). A later request with the same id has its own control, left alone here.
    private func release(_ id: UInt32, control: RequestControl) {
        guard control.markReleased() else { return }
        controls.withLock { controls in
            if controls[id] === control { controls.removeValue(forKey: id) }
        }
        session.withLock { $0.finish(requestID: id) }
    }

    private func closeIfIdleAndShuttingDown() {
        guard shuttingDown.load(ordering: .relaxed), controls.withLock({ $0.isEmpty }) else { return }
        transport.close()
    }

    // MARK: Requests

    private func serve(_ request: DeviceRequest, id: UInt32, control: RequestControl) async {
        do {
            switch request {
            case .info:
                try await reply(context.model.card.frame(requestID: id), finalOf: control)
            case .tokenize(let tokenize):
                try require(.tokenize, "TOKENIZE")
                let model = context.model
                let tokens = try await context.infer { () throws(ModelError) in
                    try model.tokenize(tokenize.text, options: tokenize.options)
                }
                try await reply(TokenList(tokens: tokens).frame(requestID: id), finalOf: control)
            case .detokenize(let detokenize):
                try require(.tokenize, "DETOKENIZE")
                let model = context.model
                let text = try await context.infer { () throws(ModelError) in try model.detokenize(detokenize.tokens) }
                try await reply(TextReply(text: text).frame(requestID: id), finalOf: control)
            case .embed(let embed):
                try await serveEmbedding(embed, id: id, control: control)
            case .power(let subscribe):
                try await servePower(id: id, subscribe: subscribe, control: control)
            case .generate(let generate):
                try require(.generate, "GENERATE")
                if case .text = generate.prompt {
                    // As TOKENIZE: without a tokenizer a text prompt is unsupported, not malformed.
                    try require(.tokenize, "a text prompt (the model has no tokenizer; send token ids)")
                }
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
            try? await reply(error.frame(requestID: id), finalOf: control)
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

    /// Sends a stream frame (`finalOf` nil) or a request's final frame (`finalOf` its control: the
    /// id is released first), replacing it by PAYLOAD_TOO_LARGE if it exceeds the negotiated limit.
    private func reply(_ frame: Frame, finalOf control: RequestControl? = nil) async throws(TransportError) {
        if let control { release(frame.requestID, control: control) }
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

    /// Runs an EMBED in chunks (`embedChunk`, `embedChunkBytes`), checking for CANCEL (or a disconnect)
    /// between them; a stopped EMBED ends with DONE(cancelled) instead of EMBEDDINGS.
    private func serveEmbedding(_ embed: EmbedRequest, id: UInt32, control: RequestControl) async throws {
        try require(.embed, "EMBED")
        let sentences = embed.sentences
        guard !sentences.isEmpty else { throw ErrorReply(.invalidArgument, "EMBED needs at least one sentence") }
        guard sentences.count <= BertServedModel.maximumBatch else {
            throw ErrorReply(.invalidArgument, "\(sentences.count) sentences; at most \(BertServedModel.maximumBatch) per EMBED")
        }
        guard context.embedSlots.tryAcquire() else {
            throw ErrorReply(.busy, "\(context.embedSlots.capacity) EMBED requests are already running on this cartridge")
        }
        defer { context.embedSlots.release() }
        let model = context.model
        var vectors: [[Float]] = []
        vectors.reserveCapacity(sentences.count)
        var start = 0
        while start < sentences.count {
            if let reason = control.stopReason {
                try await reply(GenerationSummary.ended(reason).frame(requestID: id), finalOf: control)
                return
            }
            // Up to `embedChunk` sentences and `embedChunkBytes` of text (at least one sentence).
            var end = start + 1
            var bytes = sentences[start].utf8.count
            while end < sentences.count, end - start < Self.embedChunk, bytes + sentences[end].utf8.count <= Self.embedChunkBytes {
                bytes += sentences[end].utf8.count
                end += 1
            }
            let chunk = Array(sentences[start..<end])
            vectors += try await context.infer { () throws(ModelError) in try model.embed(chunk) }
            start = end
        }
        try await reply(EmbeddingsReply(vectors: vectors).frame(requestID: id), finalOf: control)
    }

    /// Called by the server's sweeper: enforces the handshake timeout and the stall timeout.
    func sweep(now: ContinuousClock.Instant) {
        let configuration = context.configuration
        let awaitingHello = session.withLock { $0.phase == .awaitingHello }
        if awaitingHello && connectedAt.duration(to: now) > configuration.handshakeTimeout {
            logger.info("closing a connection without HELLO", metadata: ["timeout": "\(configuration.handshakeTimeout)"])
            transport.close()
            return
        }
        if let since = sender.sendingSince, since.duration(to: now) > configuration.streamStallTimeout {
            let stalled = controls.withLock { Array($0.values) }
            guard !stalled.isEmpty else { return }
            for control in stalled { control.stop(.stalled) }
        }
    }

    private func servePower(id: UInt32, subscribe: Bool, control: RequestControl) async throws {
        let power = context.power
        let changes = subscribe ? power.changes() : nil
        var sentSequence = power.status.sequence
        guard let changes else {
            try await reply(power.status.frame(requestID: id), finalOf: control)
            return
        }
        try await reply(power.status.frame(requestID: id))
        var iterator = changes.stream.makeAsyncIterator()
        control.onStop(changes.finish)
        while let status = await iterator.next() {
            if control.stopReason != nil { break }
            if status.sequence == sentSequence { continue }
            sentSequence = status.sequence
            try await reply(status.frame(requestID: id))
        }
        try await reply(GenerationSummary.ended(control.stopReason ?? .cancelled).frame(requestID: id), finalOf: control)
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
        // Given back once: when the generation ends, or as soon as the host is found stalled (the
        // task may stay blocked on the unread frame; it holds no slot while it waits).
        let slot = SlotRelease(context.generationSlots)
        defer { slot.release() }
        control.onStop { [weak control] in if control?.stopReason == .stalled { slot.release() } }
        let generation = try claimContext(session: request.session)
        // Released before the final frame (the host may reuse the session as soon as it sees DONE),
        // or on the way out if the generation fails; never twice (a new request may hold it by then).
        var sessionReleased = false
        defer { if !sessionReleased { releaseContext(session: request.session) } }

        try await context.infer { () throws(ModelError) in try generation.prepare(request) }
        // Always leave the model's scheduler, however the request ends; exactly once, before the
        // session is released (a later request may be running on it by the time this returns).
        var leftScheduler = false
        defer { if !leftScheduler { generation.end() } }
        let accounting: PromptAccounting
        do {
            accounting = try await generation.start(isCancelled: { [weak control] in control?.stopReason != nil })
        } catch {
            // A prompt stopped by CANCEL (or a vanished host) ends with DONE, not an error.
            guard control.stopReason == nil else {
                generation.end()
                leftScheduler = true
                try await finishStopped(request, id: id, control: control, started: started, slot: slot)
                sessionReleased = true
                return
            }
            throw ErrorReply(error.code, error.message)
        }
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
                // One more step releases the text held back for a possible stop sequence: the model
                // ends the generation at its own maximum without computing another token.
                stopReason = .maximumTokens
                let last = try await Self.step(generation)
                if case .finished(_, let text) = last { trailingText = text }
                break
            }
            let step = try await Self.step(generation)
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
        // Out of the scheduler before the session is free: the host may reuse it as soon as it sees DONE.
        generation.end()
        leftScheduler = true
        slot.release()
        releaseContext(session: request.session)
        sessionReleased = true
        try await reply(summary.frame(requestID: id), finalOf: control)
        logger.debug(
            "generation done",
            metadata: ["request": "\(id)", "tokens": "\(generated)", "reason": "\(stopReason)"])
    }

    /// The next step of a running generation, its errors as protocol errors.
    private static func step(_ generation: any GenerationContext) async throws(ErrorReply) -> GenerationStep {
        do {
            return try await generation.next()
        } catch {
            throw ErrorReply(error.code, error.message)
        }
    }

    /// DONE for a generation stopped (CANCEL, stalled host) before its first token.
    private func finishStopped(_ request: GenerationSpec, id: UInt32, control: RequestControl, started: ContinuousClock.Instant, slot: SlotRelease) async throws {
        let summary = GenerationSummary(
            stopReason: control.stopReason ?? .cancelled, promptTokens: 0, cachedPromptTokens: 0, generatedTokens: 0,
            timeToFirstTokenMicroseconds: 0, totalMicroseconds: started.duration(to: ContinuousClock().now).microseconds,
            tokensPerSecond: 0, trailingText: "")
        slot.release()
        releaseContext(session: request.session)
        try await reply(summary.frame(requestID: id), finalOf: control)
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
                // Not BUSY: sessions end only with the connection, so a retry could never succeed.
                return .failure(ErrorReply(.invalidArgument, "this connection already keeps \(limit) sessions; reuse one of their ids"))
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
