public import CartridgeTransport
public import CartridgeWire

/// A connection to one cartridge: the host library's entry point.
///
/// ```swift
/// let cartridge = try await CartridgeConnection.connect(to: CartridgeURI(parsing: "unix:/tmp/cartridge.sock"))
/// for try await event in try await cartridge.generate(GenerateRequest(prompt: .text("Once upon a time"))) {
///     if case .token(let token) = event { print(token.text, terminator: "") }
/// }
/// ```
/// Requests may run concurrently (they are multiplexed by request id). Cancelling the task that
/// consumes a generation stream sends CANCEL to the cartridge.
public final class CartridgeConnection: Sendable {
    /// The cartridge's answer to HELLO: negotiated version and limits, capabilities, image digest.
    public let hello: HelloReply
    public let uri: CartridgeURI
    private let transport: any CartridgeTransport
    private let sender: SerializedSender
    private let router = ResponseRouter()
    /// Frames sent from synchronous contexts (CANCEL on stream termination).
    private let controlFrames: AsyncStream<Frame>.Continuation
    private let runner: Task<Void, Never>

    private init(
        uri: CartridgeURI, transport: any CartridgeTransport, hello: HelloReply, decoder: FrameDecoder
    ) {
        self.uri = uri
        self.transport = transport
        self.hello = hello
        self.sender = SerializedSender(transport: transport)
        let (controlStream, controlFrames) = AsyncStream.makeStream(of: Frame.self)
        self.controlFrames = controlFrames
        let router = self.router
        let sender = self.sender
        // The connection's own task: reads and routes replies, and sends control frames. It ends
        // when the transport ends (close() or disconnect) and is awaited by nobody else.
        runner = Task {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await CartridgeConnection.readReplies(transport: transport, decoder: decoder, router: router)
                    controlFrames.finish()
                }
                group.addTask {
                    for await frame in controlStream {
                        try? await sender.send(frame.encoded())
                    }
                }
            }
        }
    }

    deinit {
        controlFrames.finish()
        transport.close()
    }

    /// Opens the transport named by `uri` and performs the HELLO handshake.
    public static func connect(
        to uri: CartridgeURI, clientName: String = "cartridge-swift", maximumPayloadLength: UInt32 = 1 << 20
    ) async throws(CartridgeClientError) -> CartridgeConnection {
        let transport = try await uri.openTransport()
        return try await handshake(
            over: transport, uri: uri, clientName: clientName, maximumPayloadLength: maximumPayloadLength)
    }

    /// Performs the HELLO handshake over an already open transport (tests, custom transports).
    public static func handshake(
        over transport: any CartridgeTransport, uri: CartridgeURI, clientName: String = "cartridge-swift",
        maximumPayloadLength: UInt32 = 1 << 20
    ) async throws(CartridgeClientError) -> CartridgeConnection {
        let request = HelloRequest(maximumPayloadLength: maximumPayloadLength, clientName: clientName)
        do {
            try await transport.send(request.frame(requestID: 1).encoded())
        } catch {
            transport.close()
            throw .transport(error)
        }
        var decoder = FrameDecoder(maximumPayloadLength: maximumPayloadLength)
        while true {
            let bytes: [UInt8]
            do {
                bytes = try await transport.receive(maximumCount: 64 * 1024)
            } catch {
                transport.close()
                throw .transport(error)
            }
            if bytes.isEmpty {
                transport.close()
                throw CartridgeClientError(.disconnected, "\(uri) closed the connection during HELLO")
            }
            decoder.append(bytes)
            guard let event = decoder.next() else { continue }
            guard case .frame(let frame) = event, frame.requestID == 1 else {
                transport.close()
                throw CartridgeClientError(.protocolViolation, "\(uri) answered HELLO with \(event)")
            }
            if frame.type == .error, let reply = try? ErrorReply(payload: frame.payload) {
                transport.close()
                throw .device(reply)
            }
            guard frame.type == .helloReply, let hello = try? HelloReply(payload: frame.payload) else {
                transport.close()
                throw CartridgeClientError(.protocolViolation, "\(uri) answered HELLO with \(frame)")
            }
            decoder.maximumPayloadLength = hello.maximumPayloadLength
            return CartridgeConnection(uri: uri, transport: transport, hello: hello, decoder: decoder)
        }
    }

    /// Closes the connection; requests in flight fail with `.closed`.
    public func close() {
        transport.close()
        controlFrames.finish()
    }

    private static func readReplies(transport: any CartridgeTransport, decoder: FrameDecoder, router: ResponseRouter) async {
        // The loop runs on the transport's completion thread when it has one (USB: a reply's
        // transfer completion resumes it there, one thread wake-up less per reply); close()
        // waits for that thread, so it runs after the loop, back on the default executor.
        let failure = await withTaskExecutorPreference(transport.preferredTaskExecutor) {
            await receiveLoop(transport: transport, decoder: decoder, router: router)
        }
        transport.close()
        router.failAll(failure)
    }

    /// Delivers frames until the connection ends; returns why it ended.
    private static func receiveLoop(transport: any CartridgeTransport, decoder: FrameDecoder, router: ResponseRouter) async -> CartridgeClientError {
        var decoder = decoder
        while true {
            while let event = decoder.next() {
                guard case .frame(let frame) = event else {
                    return CartridgeClientError(.protocolViolation, "the cartridge sent an invalid frame: \(event)")
                }
                // Replies for an id nobody waits for (e.g. ERROR with id 0 about bytes we sent) are dropped.
                // A stream whose consumer lags makes this wait (back-pressure up to the device).
                await router.deliver(frame)
            }
            let bytes: [UInt8]
            do {
                bytes = try await transport.receive(maximumCount: 256 * 1024)
            } catch {
                return .transport(error)
            }
            if bytes.isEmpty { return CartridgeClientError(.disconnected, "\(transport.peerDescription) closed the connection") }
            decoder.append(bytes)
        }
    }

    // MARK: Requests

    /// Sends a request and returns the stream of frames answering it.
    private func open(
        _ message: some WireMessage, flags: FrameFlags = [], single: Bool
    ) async throws(CartridgeClientError) -> (id: UInt32, frames: AsyncThrowingStream<Frame, any Error>) {
        let (frames, continuation) = AsyncThrowingStream.makeStream(of: Frame.self)
        let id = try router.register { _ in ResponseRouter.Route(continuation: continuation, single: single) }
        let frame = message.frame(requestID: id, flags: flags)
        guard frame.payload.count <= Int(hello.maximumPayloadLength) else {
            router.unregister(id)
            throw CartridgeClientError(
                .device, "\(frame.type.name) payload of \(frame.payload.count) bytes exceeds the negotiated "
                    + "\(hello.maximumPayloadLength)", deviceCode: .payloadTooLarge)
        }
        if !single {
            let router = self.router
            let controlFrames = self.controlFrames
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    router.abandon(id)
                    controlFrames.yield(CancelRequest().frame(requestID: id))
                }
            }
        }
        do {
            try await sender.send(frame.encoded())
        } catch {
            router.unregister(id)
            throw .transport(error)
        }
        return (id, frames)
    }

    /// One request, one reply of type `Reply` (or the device's ERROR, thrown).
    private func call<Reply: WireMessage>(
        _ message: some WireMessage, replyType: FrameType, as: Reply.Type
    ) async throws(CartridgeClientError) -> Reply {
        let (_, frames) = try await open(message, single: true)
        let frame: Frame
        do {
            var iterator = frames.makeAsyncIterator()
            guard let first = try await iterator.next() else {
                throw CartridgeClientError(.closed, "the request was abandoned")
            }
            frame = first
        } catch let error as CartridgeClientError {
            throw error
        } catch {
            throw CartridgeClientError(.closed, "\(error)")
        }
        return try CartridgeConnection.decode(frame, expecting: replyType, as: Reply.self)
    }

    static func decode<Reply: WireMessage>(
        _ frame: Frame, expecting replyType: FrameType, as: Reply.Type
    ) throws(CartridgeClientError) -> Reply {
        if frame.type == .error {
            do { throw CartridgeClientError.device(try ErrorReply(payload: frame.payload)) } catch let error as CartridgeClientError {
                throw error
            } catch {
                throw CartridgeClientError(.protocolViolation, "undecodable ERROR frame: \(error)")
            }
        }
        guard frame.type == replyType else {
            throw CartridgeClientError(.protocolViolation, "expected \(replyType.name), got \(frame)")
        }
        do {
            var reader = WireReader(frame.payload)
            return try Reply(decoding: &reader)
        } catch {
            throw CartridgeClientError(.protocolViolation, "\(replyType.name): \(error)")
        }
    }

    /// The model card: name, family, architecture, size, quantization, context, tokenizer, digest, licence.
    public func info() async throws(CartridgeClientError) -> ModelCard {
        try await call(InfoRequest(), replyType: .modelCard, as: ModelCard.self)
    }

    public func tokenize(_ text: String, options: TokenizeRequest.Options = []) async throws(CartridgeClientError) -> [UInt32] {
        try await call(TokenizeRequest(text: text, options: options), replyType: .tokens, as: TokenList.self).tokens
    }

    public func detokenize(_ tokens: [UInt32]) async throws(CartridgeClientError) -> String {
        try await call(DetokenizeRequest(tokens: tokens), replyType: .text, as: TextReply.self).text
    }

    /// One L2-normalised embedding per sentence.
    public func embed(_ sentences: [String]) async throws(CartridgeClientError) -> [[Float]] {
        try await call(EmbedRequest(sentences: sentences), replyType: .embeddings, as: EmbeddingsReply.self).vectors
    }

    /// Echoes `payload` through the cartridge.
    public func ping(_ payload: [UInt8] = []) async throws(CartridgeClientError) -> [UInt8] {
        let (_, frames) = try await open(PingPayload(bytes: payload), single: true)
        do {
            var iterator = frames.makeAsyncIterator()
            guard let frame = try await iterator.next() else { throw CartridgeClientError(.closed, "abandoned") }
            guard frame.type == .pong else {
                throw CartridgeClientError(.protocolViolation, "expected PONG, got \(frame)")
            }
            return frame.payload
        } catch let error as CartridgeClientError {
            throw error
        } catch {
            throw CartridgeClientError(.closed, "\(error)")
        }
    }

    public func powerStatus() async throws(CartridgeClientError) -> PowerStatus {
        try await call(PowerRequest(), replyType: .powerStatus, as: PowerStatus.self)
    }

    /// The current power status, then every change, until the consuming task stops.
    public func powerUpdates() async throws(CartridgeClientError) -> PowerStatusStream {
        let (id, frames) = try await open(PowerRequest(), flags: .subscribe, single: false)
        let router = self.router
        return PowerStatusStream(frames: frames, consumed: { router.consumed(id) })
    }

    /// Starts a generation. Tokens arrive as they are produced; the last event is `.done`.
    /// Stopping the iteration (or cancelling its task) sends CANCEL.
    public func generate(_ request: GenerateRequest) async throws(CartridgeClientError) -> GenerationStream {
        let (id, frames) = try await open(request, single: false)
        let router = self.router
        return GenerationStream(frames: frames, consumed: { router.consumed(id) }, buffered: { router.hasBuffered(id) })
    }

    /// Starts a chat answer: the cartridge renders `request.messages` with its model's chat template
    /// and streams the answer like `generate` (end-of-turn tokens end it and are not sent).
    public func chat(_ request: ChatRequest) async throws(CartridgeClientError) -> GenerationStream {
        let (id, frames) = try await open(request, single: false)
        let router = self.router
        return GenerationStream(frames: frames, consumed: { router.consumed(id) }, buffered: { router.hasBuffered(id) })
    }
}
