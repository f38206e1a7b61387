public import CartridgeWire

/// The events of one GENERATE or CHAT request. Ending the iteration early (break, task cancellation)
/// cancels the generation on the cartridge.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationEvent
    let frames: AsyncThrowingStream<Frame, any Error>
    /// Tells the connection a frame was taken (its buffer for this request is bounded).
    let consumed: @Sendable () -> Void
    /// Whether a frame (or the end) has arrived and is not taken yet.
    let buffered: @Sendable () -> Bool

    public struct AsyncIterator: AsyncIteratorProtocol {
        var frames: AsyncThrowingStream<Frame, any Error>.AsyncIterator
        let consumed: @Sendable () -> Void
        let buffered: @Sendable () -> Bool

        /// Whether `next()` returns without waiting: an event (or the end of the stream) has
        /// arrived and was not taken yet. A consumer that batches its output (the HTTP gateway
        /// writes what has arrived together) reads on while this is true.
        public var hasBufferedEvent: Bool { buffered() }

        public mutating func next() async throws -> GenerationEvent? {
            guard let frame = try await frames.next() else { return nil }
            consumed()
            if frame.type == .token {
                return .token(try CartridgeConnection.decode(frame, expecting: .token, as: GeneratedToken.self))
            }
            if frame.type == .promptToken {
                return .promptToken(try CartridgeConnection.decode(frame, expecting: .promptToken, as: PromptToken.self))
            }
            return .done(try CartridgeConnection.decode(frame, expecting: .done, as: GenerationSummary.self))
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(frames: frames.makeAsyncIterator(), consumed: consumed, buffered: buffered)
    }

    /// Collects the whole generation: the text and the summary.
    public func collect() async throws -> (text: String, tokens: [UInt32], summary: GenerationSummary) {
        var text = ""
        var tokens: [UInt32] = []
        for try await event in self {
            switch event {
            case .token(let token):
                text += token.text
                tokens.append(token.tokenID)
            case .done(let summary):
                return (text + summary.trailingText, tokens, summary)
            case .promptToken:
                continue
            }
        }
        throw CartridgeClientError(.protocolViolation, "the generation stream ended without DONE")
    }
}
