import CartridgeClient
import CartridgeWire
import Synchronization

/// Runs requests on the pool: leases a cartridge, retries on BUSY (back in the queue) and on a
/// cartridge that went away before answering (on another one with the model), and turns
/// cartridge errors into `GatewayError`s.
struct CartridgeCaller: Sendable {
    let pool: CartridgePool

    /// One request, one answer (EMBED, TOKENIZE...).
    func call<Value: Sendable>(
        model: String, ability: CartridgeAbility, _ body: @Sendable (PoolLease) async throws -> Value
    ) async throws -> (value: Value, card: ModelCard) {
        try await withRetries(model: model, ability: ability) { lease in
            let value = try await body(lease)
            pool.release(lease, outcome: .finished)
            return (value, lease.card)
        }
    }

    /// Starts a generation and reads its first event, so that BUSY, a vanished cartridge or a
    /// refused prompt are handled before the HTTP answer starts. The returned generation holds
    /// the lease until it is finished or released.
    func startGeneration(
        model: String, ability: CartridgeAbility, _ start: @Sendable (PoolLease) async throws -> GenerationStream
    ) async throws -> ActiveGeneration {
        try await withRetries(model: model, ability: ability) { lease in
            let stream = try await start(lease)
            var iterator = stream.makeAsyncIterator()
            let first = try await iterator.next()
            return ActiveGeneration(pool: pool, lease: lease, iterator: iterator, first: first)
        }
    }

    /// Leases and runs `attempt`; on failure the lease is released here, on success `attempt`
    /// owns it.
    private func withRetries<Value>(
        model: String, ability: CartridgeAbility, _ attempt: (PoolLease) async throws -> Value
    ) async throws -> Value {
        let deadline = ContinuousClock.now + pool.configuration.queueTimeout
        var admitted = false
        var lostCartridges = 0
        while true {
            let lease: PoolLease
            do {
                lease = try await pool.acquire(model: model, ability: ability, admitted: admitted)
            } catch let error as GatewayError where error.code == .modelNotFound && lostCartridges > 0 {
                throw GatewayError(.unavailable, "the cartridge serving '\(model)' went away", retryAfterSeconds: 1)
            }
            admitted = true
            do {
                return try await attempt(lease)
            } catch let error as CartridgeClientError {
                switch CartridgeFailure(error, model: model) {
                case .busy:
                    pool.release(lease, outcome: .busy)
                    if ContinuousClock.now >= deadline {
                        throw GatewayError(.unavailable, "every cartridge serving '\(model)' stayed busy", retryAfterSeconds: pool.configuration.retryAfterSeconds)
                    }
                case .gone(let cause):
                    pool.release(lease, outcome: .gone)
                    lostCartridges += 1
                    if lostCartridges >= 4 {
                        throw GatewayError(.unavailable, "cartridges serving '\(model)' keep going away: \(cause.message)", retryAfterSeconds: 1)
                    }
                case .request(let gatewayError):
                    pool.release(lease, outcome: .finished)
                    throw gatewayError
                }
            } catch {
                pool.release(lease, outcome: .finished)
                throw error
            }
        }
    }
}

/// A generation running on a leased cartridge. Read it with `next()`; the lease returns to the
/// pool when the stream ends, fails, or this object is released (which also cancels the
/// generation on the cartridge if it was still running).
final class ActiveGeneration: @unchecked Sendable {
    // @unchecked: the iterator is used by one task at a time (the request handler, then the
    // response body writer); `released` is guarded by the Mutex.
    let lease: PoolLease
    private let pool: CartridgePool
    private var iterator: GenerationStream.AsyncIterator?
    private var pending: GenerationEvent?
    private let released = Mutex(false)

    init(pool: CartridgePool, lease: PoolLease, iterator: GenerationStream.AsyncIterator, first: GenerationEvent?) {
        self.pool = pool
        self.lease = lease
        self.iterator = iterator
        self.pending = first
    }

    /// The next event; nil after DONE. Cartridge failures come as `GatewayError`.
    func next() async throws -> GenerationEvent? {
        if let event = pending {
            pending = nil
            if case .done = event { finish(.finished) }
            return event
        }
        guard iterator != nil else { return nil }
        do {
            let event = try await iterator!.next()
            if event == nil {
                finish(.finished)
            } else if case .done? = event {
                finish(.finished)
            }
            return event
        } catch let error as CartridgeClientError {
            switch CartridgeFailure(error, model: lease.card.name) {
            case .busy:
                finish(.busy)
                throw GatewayError(.unavailable, "the cartridge became busy mid-stream", retryAfterSeconds: 1)
            case .gone(let cause):
                finish(.gone)
                throw GatewayError(.unavailable, "the cartridge went away mid-stream: \(cause.message)", retryAfterSeconds: 1)
            case .request(let gatewayError):
                finish(.finished)
                throw gatewayError
            }
        } catch {
            finish(.finished)
            throw error
        }
    }

    /// Whether `next()` returns without waiting (an event or the end has arrived already).
    var hasBufferedEvent: Bool { pending != nil || (iterator?.hasBufferedEvent ?? true) }

    /// Stops reading: a running generation is cancelled on the cartridge (CANCEL) and the lease returns.
    func finish(_ outcome: LeaseOutcome = .finished) {
        iterator = nil
        let first = released.withLock { released -> Bool in
            defer { released = true }
            return !released
        }
        if first { pool.release(lease, outcome: outcome) }
    }

    deinit {
        finish()
    }
}
