import CartridgeClient
import CartridgeWire
import Logging
import Synchronization

/// The cartridges the gateway serves, with a bounded wait queue in front of them.
///
/// Requests route by model name (the cartridge's model card name); several cartridges with the
/// same model share the load, least busy first. When every matching cartridge is at its
/// concurrency limit (or answered BUSY a moment ago), a request waits in a FIFO queue; a full
/// queue refuses at once with 429. A cartridge whose connection breaks leaves the pool and the
/// requests waiting only for its model fail with 503, so nothing hangs.
///
/// Members come and go through `add` and `remove` (called by `PoolSupervisor`); `tick()` must be
/// called periodically while requests wait (every 50 ms by the supervisor) to retry saturated
/// cartridges and expire waits.
final class CartridgePool: Sendable {
    struct Configuration: Sendable {
        /// Requests in flight per cartridge (further limited by the cartridge's own HELLO limit).
        var requestsPerCartridge: Int = 4
        /// Requests that may wait for a cartridge; more are answered 429.
        var queueLimit: Int = 64
        /// How long a request may wait in the queue before it is answered 503.
        var queueTimeout: Duration = .seconds(60)
        /// How long a cartridge that answered BUSY is left alone.
        var busyBackoff: Duration = .milliseconds(100)
        /// EMBED requests in flight per cartridge: a cartridge runs 2 at once across all its
        /// connections and answers BUSY beyond (docs/PROTOCOL.md 4.5), so more only bounce.
        var embeddingsPerCartridge: Int = 2
        /// Retry-After seconds suggested with 429.
        var retryAfterSeconds: Int = 1
    }

    struct Member {
        let id: Int
        let connection: CartridgeConnection
        let card: ModelCard
        let source: String
        let capacity: Int
        var inFlight = 0
        /// Of `inFlight`, the EMBED requests.
        var embeddingsInFlight = 0
        var saturatedUntil: ContinuousClock.Instant?
        /// Requests served, for tests and logs.
        var served = 0
    }

    private struct Waiter {
        let id: Int
        let model: String
        let ability: CartridgeAbility
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<PoolLease, any Error>
    }

    private struct State {
        var members: [Int: Member] = [:]
        var waiters: [Waiter] = []
        /// Waiters cancelled before they were queued.
        var cancelled: Set<Int> = []
        var nextID = 1

        mutating func freeMember(model: String, ability: CartridgeAbility, now: ContinuousClock.Instant, embeddingLimit: Int) -> Int? {
            var best: Member?
            for member in members.values where member.card.name == model && member.inFlight < member.capacity {
                guard ability.isOffered(by: member.connection.hello.capabilities) else { continue }
                if ability == .embed, member.embeddingsInFlight >= embeddingLimit { continue }
                if let until = member.saturatedUntil, until > now { continue }
                // Least busy first; among equals the one that served fewer (spreads sequential requests).
                if let current = best, (current.inFlight, current.served, current.id) <= (member.inFlight, member.served, member.id) { continue }
                best = member
            }
            return best?.id
        }

        mutating func lease(_ id: Int, ability: CartridgeAbility) -> PoolLease {
            members[id]!.inFlight += 1
            if ability == .embed { members[id]!.embeddingsInFlight += 1 }
            members[id]!.served += 1
            members[id]!.saturatedUntil = nil
            let member = members[id]!
            return PoolLease(memberID: id, connection: member.connection, card: member.card, source: member.source, ability: ability)
        }
    }

    let configuration: Configuration
    private let state = Mutex(State())
    /// Yields when a request starts waiting in the queue: the supervisor ticks the pool only
    /// while requests wait, so an idle gateway does not wake up every 50 ms.
    let queueActivity: AsyncStream<Void>
    private let queueActivityContinuation: AsyncStream<Void>.Continuation
    private let metrics: GatewayMetrics
    private let logger: Logger

    init(configuration: Configuration, metrics: GatewayMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        (queueActivity, queueActivityContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Members

    /// Adds a connected cartridge; returns its member id.
    @discardableResult
    func add(connection: CartridgeConnection, card: ModelCard, source: String) -> Int {
        // Keep a few of the connection's request slots for power subscriptions and health pings;
        // a lease may have two requests in flight (EMBED and the TOKENIZE that counts its tokens).
        let helloLimit = max(1, (Int(connection.hello.maximumRequestsInFlight) - 2) / 2)
        let capacity = max(1, min(configuration.requestsPerCartridge, helloLimit))
        let (id, count) = state.withLock { state -> (Int, Int) in
            let id = state.nextID
            state.nextID += 1
            state.members[id] = Member(id: id, connection: connection, card: card, source: source, capacity: capacity)
            return (id, state.members.count)
        }
        logger.info("cartridge joined", metadata: ["cartridge": "\(source)", "model": "\(card.name)", "capacity": "\(capacity)"])
        metrics.poolChanged(cartridges: count)
        metrics.inFlight(cartridge: source, model: card.name, count: 0)
        dispatch()
        return id
    }

    /// Removes a cartridge (gone, or its supervisor stopped) and closes its connection. Requests
    /// waiting for a model no cartridge serves any more fail with 503.
    func remove(_ id: Int, reason: String) {
        let (removed, orphans, count) = state.withLock { state -> (Member?, [Waiter], Int) in
            guard let member = state.members.removeValue(forKey: id) else { return (nil, [], state.members.count) }
            let served = Set(state.members.values.map(\.card.name))
            let orphans = state.waiters.filter { !served.contains($0.model) }
            state.waiters.removeAll { !served.contains($0.model) }
            return (member, orphans, state.members.count)
        }
        guard let removed else { return }
        removed.connection.close()
        logger.info("cartridge left", metadata: ["cartridge": "\(removed.source)", "model": "\(removed.card.name)", "reason": "\(reason)"])
        metrics.poolChanged(cartridges: count)
        metrics.inFlight(cartridge: removed.source, model: removed.card.name, count: 0)
        for waiter in orphans {
            waiter.continuation.resume(throwing: GatewayError(.unavailable, "the cartridge serving '\(waiter.model)' went away", retryAfterSeconds: 1))
        }
        updateQueueMetric()
    }

    func contains(_ id: Int) -> Bool { state.withLock { $0.members[id] != nil } }

    /// Ids of the members whose source is `source`.
    func members(from source: String) -> [Int] {
        state.withLock { $0.members.values.filter { $0.source == source }.map(\.id) }
    }

    /// A snapshot of the members, ordered by id.
    func snapshot() -> [Member] {
        state.withLock { Array($0.members.values) }.sorted { $0.id < $1.id }
    }

    var queueDepth: Int { state.withLock { $0.waiters.count } }

    /// The id (`ModelID`) under which the model `name` is listed now.
    func modelID(of name: String) -> String {
        let names = state.withLock { Set($0.members.values.map(\.card.name)) }
        return ModelID.ids(for: names.union([name]))[name] ?? name
    }

    // MARK: Leasing

    /// A cartridge serving `model` that can do `ability`, now or after waiting in the queue.
    /// `admitted`: the request already passed the queue once (it is retrying after BUSY), so a
    /// full queue does not refuse it.
    /// `model` is a model's exact name or its id (`ModelID`).
    func acquire(model requested: String, ability: CartridgeAbility, admitted: Bool = false) async throws -> PoolLease {
        let waiterID = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        // A cancellation that raced with the grant leaves the id in `cancelled`; drop it.
        defer { _ = state.withLock { $0.cancelled.remove(waiterID) } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PoolLease, any Error>) in
                let now = ContinuousClock.now
                let immediate = state.withLock { state -> Result<PoolLease, any Error>? in
                    if state.cancelled.remove(waiterID) != nil { return .failure(CancellationError()) }
                    let names = state.members.values.map(\.card.name)
                    let model: String
                    switch ModelID.resolve(requested, among: names) {
                    case .name(let name):
                        model = name
                    case .unknown:
                        let known = Set(ModelID.ids(for: names).values).sorted()
                        let list = known.isEmpty ? "no cartridge is connected" : "available: " + known.joined(separator: ", ")
                        return .failure(GatewayError(.modelNotFound, "the model '\(requested)' does not exist (\(list))", param: "model"))
                    case .ambiguous(let matches):
                        return .failure(GatewayError(
                            .invalidRequest, "'\(requested)' names several models (\(matches.joined(separator: ", "))); use the exact name",
                            param: "model"))
                    }
                    let serving = state.members.values.filter { $0.card.name == model }
                    guard serving.contains(where: { ability.isOffered(by: $0.connection.hello.capabilities) }) else {
                        return .failure(GatewayError(.invalidRequest, "the model '\(model)' does not support \(ability)", param: "model"))
                    }
                    if let id = state.freeMember(model: model, ability: ability, now: now, embeddingLimit: configuration.embeddingsPerCartridge) {
                        return .success(state.lease(id, ability: ability))
                    }
                    if !admitted, state.waiters.count >= configuration.queueLimit {
                        return .failure(GatewayError(
                            .rateLimited, "all cartridges serving '\(model)' are busy and \(state.waiters.count) requests are waiting",
                            retryAfterSeconds: configuration.retryAfterSeconds))
                    }
                    state.waiters.append(Waiter(
                        id: waiterID, model: model, ability: ability, deadline: now + configuration.queueTimeout, continuation: continuation))
                    return nil
                }
                if let immediate {
                    if case .failure(let error as GatewayError) = immediate, error.code == .rateLimited { metrics.queueRejected() }
                    if case .success(let lease) = immediate { noteInFlight(lease) }
                    continuation.resume(with: immediate)
                } else {
                    queueActivityContinuation.yield()
                    updateQueueMetric()
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                if let index = state.waiters.firstIndex(where: { $0.id == waiterID }) { return state.waiters.remove(at: index) }
                state.cancelled.insert(waiterID)
                return nil
            }
            waiter?.continuation.resume(throwing: CancellationError())
            updateQueueMetric()
        }
    }

    /// Returns a lease; `outcome` tells what happened on the cartridge.
    func release(_ lease: PoolLease, outcome: LeaseOutcome) {
        let count = state.withLock { state -> Int? in
            guard state.members[lease.memberID] != nil else { return nil }
            state.members[lease.memberID]!.inFlight -= 1
            if lease.ability == .embed { state.members[lease.memberID]!.embeddingsInFlight -= 1 }
            if case .busy = outcome { state.members[lease.memberID]!.saturatedUntil = ContinuousClock.now + configuration.busyBackoff }
            return state.members[lease.memberID]!.inFlight
        }
        if let count { metrics.inFlight(cartridge: lease.source, model: lease.card.name, count: count) }
        if case .gone = outcome {
            remove(lease.memberID, reason: "connection lost during a request")
        }
        dispatch()
    }

    /// Retries saturated cartridges whose back-off ended and expires waits; call periodically
    /// while `queueDepth` is above zero (`queueActivity` says when it becomes so).
    func tick() {
        dispatch()
    }

    /// Hands free cartridges to waiting requests, oldest first, and fails expired waits.
    private func dispatch() {
        let now = ContinuousClock.now
        let (granted, expired) = state.withLock { state -> ([(Waiter, PoolLease)], [Waiter]) in
            guard !state.waiters.isEmpty else { return ([], []) }
            var granted: [(Waiter, PoolLease)] = []
            var expired: [Waiter] = []
            var remaining: [Waiter] = []
            for waiter in state.waiters {
                if let id = state.freeMember(model: waiter.model, ability: waiter.ability, now: now, embeddingLimit: configuration.embeddingsPerCartridge) {
                    granted.append((waiter, state.lease(id, ability: waiter.ability)))
                } else if waiter.deadline <= now {
                    expired.append(waiter)
                } else {
                    remaining.append(waiter)
                }
            }
            state.waiters = remaining
            return (granted, expired)
        }
        guard !granted.isEmpty || !expired.isEmpty else { return }
        for (waiter, lease) in granted {
            noteInFlight(lease)
            waiter.continuation.resume(returning: lease)
        }
        for waiter in expired {
            waiter.continuation.resume(throwing: GatewayError(
                .unavailable, "no cartridge serving '\(waiter.model)' became free within \(configuration.queueTimeout)",
                retryAfterSeconds: configuration.retryAfterSeconds))
        }
        updateQueueMetric()
    }

    private func noteInFlight(_ lease: PoolLease) {
        metrics.leased(cartridge: lease.source, model: lease.card.name)
        let count = state.withLock { $0.members[lease.memberID]?.inFlight ?? 0 }
        metrics.inFlight(cartridge: lease.source, model: lease.card.name, count: count)
    }

    private func updateQueueMetric() {
        metrics.queueDepth(queueDepth)
    }
}
