import CartridgeWire
import Synchronization

/// Routes incoming frames to the requests waiting for them, by request id, and hands out ids.
///
/// Back-pressure: a stream route buffers at most `capacity` frames its consumer has not taken;
/// `deliver` suspends the connection's reader until the consumer takes one (or goes away), so a
/// slow consumer stops the reads, the socket or USB buffers fill, and the device pauses the stream.
final class ResponseRouter: Sendable {
    struct Route {
        var continuation: AsyncThrowingStream<Frame, any Error>.Continuation
        /// A request answered by exactly one frame (reply or ERROR); otherwise a stream of frames
        /// ended by DONE or ERROR.
        var single: Bool
        /// The reader left: frames are dropped, but the id stays reserved until the final frame.
        var abandoned = false
        /// Frames yielded to the consumer and not taken yet.
        var buffered = 0
    }

    private struct State {
        var routes: [UInt32: Route] = [:]
        var nextID: UInt32 = 1
        var failure: CartridgeClientError?
        /// The reader, waiting for room in this route's buffer.
        var waiter: (id: UInt32, continuation: CheckedContinuation<Void, Never>)?
    }

    private let state = Mutex(State())
    /// Frames a stream route buffers before the reader waits.
    let capacity: Int

    init(capacity: Int = 256) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// The consumer of `id` took a frame: there is room again.
    func consumed(_ id: UInt32) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.routes[id] != nil { state.routes[id]!.buffered = max(0, state.routes[id]!.buffered - 1) }
            return Self.takeWaiterIfFree(&state, id: id, capacity: capacity)
        }
        waiter?.resume()
    }

    /// Whether the consumer of `id` has a frame (or the stream's end) waiting, so that its next
    /// read returns at once. A route that is gone (its final frame or a failure delivered) counts
    /// as waiting.
    func hasBuffered(_ id: UInt32) -> Bool {
        state.withLock { state in state.routes[id].map { $0.buffered > 0 } ?? true }
    }

    private static func takeWaiterIfFree(_ state: inout State, id: UInt32, capacity: Int) -> CheckedContinuation<Void, Never>? {
        guard let waiter = state.waiter, waiter.id == id else { return nil }
        if let route = state.routes[id], !route.abandoned, route.buffered >= capacity { return nil }
        state.waiter = nil
        return waiter.continuation
    }

    /// Suspends while the stream route for `id` is full and its consumer is still there.
    private func waitForRoom(_ id: UInt32) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                guard let route = state.routes[id], !route.single, !route.abandoned, route.buffered >= capacity else {
                    return true
                }
                state.waiter = (id, continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Reserves a fresh request id (never 0, never one in flight) and registers its route.
    /// Fails at once if the connection has already failed.
    func register(_ makeRoute: (UInt32) -> Route) throws(CartridgeClientError) -> UInt32 {
        let result: Result<UInt32, CartridgeClientError> = state.withLock { state in
            if let failure = state.failure { return .failure(failure) }
            var id = state.nextID
            while id == 0 || state.routes[id] != nil { id &+= 1 }
            state.nextID = id &+ 1
            state.routes[id] = makeRoute(id)
            return .success(id)
        }
        return try result.get()
    }

    func unregister(_ id: UInt32) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.routes.removeValue(forKey: id)
            return Self.takeWaiterIfFree(&state, id: id, capacity: capacity)
        }
        waiter?.resume()
    }

    /// The stream's consumer went away; keep the id until the final frame.
    func abandon(_ id: UInt32) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.routes[id]?.abandoned = true
            return Self.takeWaiterIfFree(&state, id: id, capacity: capacity)
        }
        waiter?.resume()
    }

    /// Delivers one frame. Returns false if nobody expects it (a protocol violation unless the
    /// id was just cancelled).
    @discardableResult
    func deliver(_ frame: Frame) async -> Bool {
        await waitForRoom(frame.requestID)
        let delivery = state.withLock { state -> (Route, final: Bool)? in
            guard let route = state.routes[frame.requestID] else { return nil }
            let final = route.single || frame.type == .done || frame.type == .error
            if final {
                state.routes.removeValue(forKey: frame.requestID)
            } else if !route.abandoned {
                state.routes[frame.requestID]!.buffered += 1
            }
            return (route, final)
        }
        guard let (route, final) = delivery else { return false }
        if !route.abandoned { route.continuation.yield(frame) }
        if final { route.continuation.finish() }
        return true
    }

    /// The connection ended: every waiting request fails with `error`, and later ones at once.
    func failAll(_ error: CartridgeClientError) {
        let (routes, waiter) = state.withLock { state -> ([Route], CheckedContinuation<Void, Never>?) in
            if state.failure == nil { state.failure = error }
            defer {
                state.routes.removeAll()
                state.waiter = nil
            }
            return (Array(state.routes.values), state.waiter?.continuation)
        }
        waiter?.resume()
        for route in routes { route.continuation.finish(throwing: error) }
    }
}
