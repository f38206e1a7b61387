public import CartridgeWire
import Synchronization

/// The handle by which a connection stops one of its requests in flight (CANCEL, disconnect,
/// shutdown). Generation loops poll `stopReason` between tokens; streams register `onStop` to
/// finish when the request is stopped.
public final class RequestControl: Sendable {
    private struct State {
        var stopReason: StopReason?
        var handlers: [@Sendable () -> Void] = []
        var released = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Why the request must stop, or nil while it may continue.
    public var stopReason: StopReason? { state.withLock { $0.stopReason } }

    /// Asks the request to stop; the first reason wins. Runs the `onStop` handlers once.
    public func stop(_ reason: StopReason) {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.stopReason == nil else { return [] }
            state.stopReason = reason
            defer { state.handlers.removeAll() }
            return state.handlers
        }
        for handler in handlers { handler() }
    }

    /// Records that the request's id has been freed; true only for the first call.
    public func markReleased() -> Bool {
        state.withLock { state in
            defer { state.released = true }
            return !state.released
        }
    }

    /// Runs `handler` when the request is stopped (at once if it already is).
    public func onStop(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.stopReason != nil { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Sleeps for `duration`, returning early (within ~10 ms) once the request is stopped.
    public func sleep(for duration: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: duration)
        while stopReason == nil {
            let remaining = clock.now.duration(to: deadline)
            if remaining <= .zero { return }
            try? await Task.sleep(for: min(remaining, .milliseconds(10)))
        }
    }
}
