import Synchronization

/// Lets many tasks send whole messages over one transport without interleaving their bytes.
/// Each sender waits its turn (FIFO); while the transport's `send` is suspended by back-pressure,
/// everyone else waits too, so no sender can buffer more than its own message.
public final class SerializedSender: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var sendingSince: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    public let transport: any CartridgeTransport

    public init(transport: any CartridgeTransport) {
        self.transport = transport
    }

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        await acquire()
        defer { release() }
        state.withLock { $0.sendingSince = .now }
        try await transport.send(bytes)
    }

    /// When the send in progress started, nil while none is: a host that does not read keeps
    /// one send pending, and this says for how long.
    public var sendingSince: ContinuousClock.Instant? { state.withLock { $0.sendingSince } }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.sendingSince = nil
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
