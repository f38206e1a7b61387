import Synchronization

/// A listener for in-process tests: each `connect()` makes an in-memory pair, hands the device
/// end to `accept()` and returns the host end.
public final class InMemoryListener: CartridgeListener {
    private struct State {
        var pending: [InMemoryTransport] = []
        var waiter: CheckedContinuation<InMemoryTransport?, Never>?
        var closed = false
    }
    private let state = Mutex(State())
    private let capacity: Int
    public let endpointDescription = "memory:"

    /// - Parameter capacity: bytes each direction buffers before `send` suspends.
    public init(capacity: Int = 64 * 1024) { self.capacity = capacity }

    /// A new host connection.
    public func connect() -> InMemoryTransport {
        let (host, device) = InMemoryTransport.makePair(capacity: capacity)
        let waiter = state.withLock { state -> CheckedContinuation<InMemoryTransport?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending.append(device)
            return nil
        }
        waiter?.resume(returning: device)
        return host
    }

    public func accept() async throws(TransportError) -> (any CartridgeTransport)? {
        await withCheckedContinuation { (continuation: CheckedContinuation<InMemoryTransport?, Never>) in
            let ready = state.withLock { state -> InMemoryTransport?? in
                if state.closed { return .some(nil) }
                if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<InMemoryTransport?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
