public import CartridgeWire

/// POWER_STATUS updates of a subscription. Ending the iteration sends CANCEL.
public struct PowerStatusStream: AsyncSequence, Sendable {
    public typealias Element = PowerStatus
    let frames: AsyncThrowingStream<Frame, any Error>
    /// Tells the connection a frame was taken (its buffer for this request is bounded).
    var consumed: @Sendable () -> Void = {}

    public struct AsyncIterator: AsyncIteratorProtocol {
        var frames: AsyncThrowingStream<Frame, any Error>.AsyncIterator
        let consumed: @Sendable () -> Void

        public mutating func next() async throws -> PowerStatus? {
            guard let frame = try await frames.next() else { return nil }
            consumed()
            guard frame.type != .done else { return nil }
            return try CartridgeConnection.decode(frame, expecting: .powerStatus, as: PowerStatus.self)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(frames: frames.makeAsyncIterator(), consumed: consumed) }
}
