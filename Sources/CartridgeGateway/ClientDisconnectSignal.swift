import Synchronization

/// Fires once, when the HTTP client of a connection goes away (its side of the TCP connection
/// closed). Requests race their work against it, so a client that disconnects while waiting in
/// the queue or while its completion is generated cancels the cartridge request (CANCEL).
final class ClientDisconnectSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    init() {}

    var hasFired: Bool { state.withLock { $0.fired } }

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the signal fires or the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs `body`; if the client goes away first, cancels it and throws `GatewayError`
    /// (`.clientClosedRequest`), which nobody will read.
    func unlessClientLeaves<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await self.wait()
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
                if hasFired { throw GatewayError.clientClosedRequest }
            }
            throw GatewayError.clientClosedRequest
        }
    }
}

extension GatewayError {
    /// The HTTP client went away before the answer (nginx's 499); logged, never sent.
    static var clientClosedRequest: GatewayError { GatewayError(.unavailable, "the client closed the connection") }
}
