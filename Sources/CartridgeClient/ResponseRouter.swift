import CartridgeWire
import Synchronization

/// Routes incoming frames to the requests waiting for them, by request id, and hands out ids.
final class ResponseRouter: Sendable {
    struct Route {
        var continuation: AsyncThrowingStream<Frame, any Error>.Continuation
        /// A request answered by exactly one frame (reply or ERROR); otherwise a stream of frames
        /// ended by DONE or ERROR.
        var single: Bool
        /// The reader left: frames are dropped, but the id stays reserved until the final frame.
        var abandoned = false
    }

    private struct State {
        var routes: [UInt32: Route] = [:]
        var nextID: UInt32 = 1
        var failure: CartridgeClientError?
    }

    private let state = Mutex(State())

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
        state.withLock { _ = $0.routes.removeValue(forKey: id) }
    }

    /// The stream's consumer went away; keep the id until the final frame.
    func abandon(_ id: UInt32) {
        state.withLock { state in state.routes[id]?.abandoned = true }
    }

    /// Delivers one frame. Returns false if nobody expects it (a protocol violation unless the
    /// id was just cancelled).
    @discardableResult
    func deliver(_ frame: Frame) -> Bool {
        let delivery = state.withLock { state -> (Route, final: Bool)? in
            guard let route = state.routes[frame.requestID] else { return nil }
            let final = route.single || frame.type == .done || frame.type == .error
            if final { state.routes.removeValue(forKey: frame.requestID) }
            return (route, final)
        }
        guard let (route, final) = delivery else { return false }
        if !route.abandoned { route.continuation.yield(frame) }
        if final { route.continuation.finish() }
        return true
    }

    /// The connection ended: every waiting request fails with `error`, and later ones at once.
    func failAll(_ error: CartridgeClientError) {
        let routes = state.withLock { state -> [Route] in
            if state.failure == nil { state.failure = error }
            defer { state.routes.removeAll() }
            return Array(state.routes.values)
        }
        for route in routes { route.continuation.finish(throwing: error) }
    }
}
