#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Continuous batching for one model: a step loop on its own thread runs every active
/// generation through the model together, one token each per step (each layer's weights are
/// read once per step for all of them), and interleaves prompt prefill in chunks, so a long
/// prompt delays running streams by at most one chunk per step and can be cancelled between
/// layers. Generations join and leave between steps.
///
/// ```swift
/// let scheduler = GenerationScheduler(model: model)
/// let session = model.makeSession()
/// _ = try await scheduler.start(session, prompt: tokens, parameters: GenerationParameters(maxTokens: 64))
/// defer { scheduler.end(session) }
/// while case .token(_, let text) = try await scheduler.next(session).step { print(text, terminator: "") }
/// ```
///
/// Each stream may run up to `lookahead` tokens ahead of its reader; a reader that falls behind
/// is skipped by the steps until it reads (back-pressure, and the consumer-side rate caps keep
/// working). KV-cache memory is admitted per generation (prompt + maximum tokens, at most the
/// context): a generation that does not fit the budget is refused with `.busy`. Finished
/// prompts go to a prefix cache (bounded, least recently used first) that later prompts with
/// the same beginning copy from. A session that keeps its history after its generation ends (a
/// conversation the next request continues) counts against the budget with the positions it
/// holds; when a new generation needs the room, the prefix cache shrinks first, then the least
/// recently used idle sessions forget their caches (their next request runs its whole prompt).
///
/// A session driven by the scheduler must not be used through its synchronous API
/// (`startGeneration`, `nextToken`) at the same time.
///
/// `@unchecked Sendable`: every mutable property is guarded by `mutex`; sessions' own state
/// by their own locks.
public final class GenerationScheduler: @unchecked Sendable {
    public let model: LlamaModel
    /// KV-cache bytes admitted generations and the prefix cache may use together.
    public let kvBudgetBytes: Int
    /// Tokens a stream may compute ahead of its reader: enough that a reader delayed by a busy CPU
    /// does not drop out of the next steps (smaller batches), few enough that a CANCEL wastes little.
    public static let lookahead = 8

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()
    private var stopping = false
    private var prefills: [PrefillJob] = []
    private var streams: [Stream] = []
    private var reservedBytes = 0
    /// Idle sessions that still hold KV positions, least recently used first.
    private var keptCaches: [KeptCache] = []
    private var prefixCache: PrefixCache
    private var statistics = Statistics()

    /// Counters for tests and benchmarks.
    public struct Statistics: Sendable, Hashable {
        /// Forward passes run, and rows in them (decode rows, prompt rows).
        public var steps = 0, decodeRows = 0, prefillRows = 0
        /// The most decode rows in one step.
        public var widestStep = 0
        /// Prompts whose beginning came from the prefix cache, and the positions reused.
        public var prefixHits = 0, prefixTokens = 0
        /// Prompts cancelled during prefill.
        public var cancelledPrefills = 0
        /// Idle sessions whose KV cache was dropped to admit another generation.
        public var evictedSessionCaches = 0
    }

    /// An idle session's claim on the budget. Weak: a session that is gone holds nothing.
    final class KeptCache {
        weak var session: LlamaSession?
        let bytes: Int
        init(session: LlamaSession, bytes: Int) {
            self.session = session
            self.bytes = bytes
        }
    }

    final class Stream {
        let session: LlamaSession
        let reservation: Int
        var buffered: [ScheduledStep] = []
        var waiter: CheckedContinuation<ScheduledStep, any Error>?
        var final: LlamaStopReason?
        var pacer = TokenPacer()
        init(session: LlamaSession, reservation: Int) {
            self.session = session
            self.reservation = reservation
        }
    }

    final class PrefillJob {
        let session: LlamaSession
        let reservation: Int
        let cached: Int
        let isCancelled: @Sendable () -> Bool
        let continuation: CheckedContinuation<Int, any Error>
        init(session: LlamaSession, reservation: Int, cached: Int, isCancelled: @escaping @Sendable () -> Bool, continuation: CheckedContinuation<Int, any Error>) {
            self.session = session
            self.reservation = reservation
            self.cached = cached
            self.isCancelled = isCancelled
            self.continuation = continuation
        }
    }

    /// - Parameters:
    ///   - kvBudgetBytes: KV-cache memory for running generations plus the prefix cache
    ///     (default: four full contexts).
    ///   - prefixCacheBytes: at most this much of the budget keeps finished prompts (0: no prefix cache).
    public init(model: LlamaModel, kvBudgetBytes: Int? = nil, prefixCacheBytes: Int = 64 << 20) {
        self.model = model
        let fullContext = KVCache.bytes(config: model.config, positions: model.config.seqLen)
        self.kvBudgetBytes = max(1, kvBudgetBytes ?? 4 * fullContext)
        prefixCache = PrefixCache(capacityBytes: min(prefixCacheBytes, self.kvBudgetBytes))
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<GenerationScheduler>.fromOpaque(raw!).takeUnretainedValue().loop()
            return nil
        }, context)
        precondition(status == 0, "GenerationScheduler: pthread_create failed (\(status))")
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    public var currentStatistics: Statistics { locked { statistics } }

    /// KV-cache bytes held now by admitted generations, idle sessions' kept histories and the
    /// prefix cache.
    public var kvBytesInUse: Int { locked { reservedBytes + keptBytes() + prefixCache.bytes } }

    /// KV-cache bytes idle sessions hold now (sessions that are gone are dropped from the list).
    public var keptSessionBytes: Int { locked { keptBytes() } }

    /// KV-cache bytes the prefix cache holds now.
    public var prefixCacheBytesInUse: Int { locked { prefixCache.bytes } }

    // MARK: API

    /// Starts a generation on `session`: reuses its cached history or the prefix cache where the
    /// prompt begins the same way, runs the rest of the prompt (but its last token) in chunks
    /// between decoding steps, and returns how many prompt tokens did not need computing.
    /// `isCancelled` is polled between chunks and layers; when it turns true the prompt stops and
    /// this throws `.cancelled`. Throws `.busy` when the KV budget cannot admit the generation.
    @discardableResult
    public func start(
        _ session: LlamaSession, prompt: [Int32], parameters: GenerationParameters,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) async throws(InferenceError) -> Int {
        let config = model.config
        let positions = min(config.seqLen, prompt.count + max(0, parameters.maxTokens))
        let reservation = KVCache.bytes(config: config, positions: positions)
        let admitted: Result<(KVCache, Int)?, InferenceError> = locked {
            if streams.contains(where: { $0.session === session }) || prefills.contains(where: { $0.session === session }) {
                return .failure(InferenceError(.invalidArgument, "this session is already generating"))
            }
            if reservedBytes + reservation > kvBudgetBytes {
                return .failure(InferenceError(
                    .busy, "the KV cache budget (\(kvBudgetBytes) bytes) is taken by running generations; this one needs \(reservation)"))
            }
            // This session's own history is part of its new reservation now.
            keptCaches.removeAll { $0.session === session }
            let free = kvBudgetBytes - reservedBytes - reservation
            var kept = keptBytes()
            while kept > free, !keptCaches.isEmpty {
                let oldest = keptCaches.removeFirst()
                oldest.session?.state.withLock { $0.forgetCache() }
                kept -= oldest.bytes
                statistics.evictedSessionCaches += 1
            }
            prefixCache.shrink(to: free - kept)
            reservedBytes += reservation
            guard !parameters.echo, prompt.count > 1 else { return .success(nil) }
            let hit = prefixCache.longestPrefix(of: prompt, limit: prompt.count - 1)
            return .success(hit)
        }
        let hit: (KVCache, Int)?
        switch admitted {
        case .failure(let error): throw error
        case .success(let value): hit = value
        }
        let begun: Result<(cached: Int, remaining: Int, fromPrefix: Int), InferenceError> = session.state.withLock { state in
            var fromPrefix = 0
            if let (source, count) = hit {
                var common = 0
                while common < min(state.history.count, count), state.history[common] == prompt[common] { common += 1 }
                if common < count {
                    state.cache.copyPrefix(from: source, count: count)
                    state.history = Array(prompt[0..<count])
                    fromPrefix = count
                }
            }
            do throws(InferenceError) {
                let cached = try state.begin(prompt: prompt, parameters: parameters, model: model)
                return .success((cached, state.prefillRemaining, fromPrefix))
            } catch {
                return .failure(error)
            }
        }
        let cached: Int, remaining: Int
        switch begun {
        case .failure(let error):
            locked { reservedBytes -= reservation }
            throw error
        case .success(let value):
            (cached, remaining) = (value.cached, value.remaining)
            if value.fromPrefix > 0 {
                locked {
                    statistics.prefixHits += 1
                    statistics.prefixTokens += value.fromPrefix
                }
            }
        }
        if remaining == 0 {
            locked {
                streams.append(Stream(session: session, reservation: reservation))
                pthread_cond_broadcast(condition)
            }
            return cached
        }
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                locked {
                    prefills.append(PrefillJob(session: session, reservation: reservation, cached: cached, isCancelled: isCancelled, continuation: continuation))
                    pthread_cond_broadcast(condition)
                }
            }
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.cancelled, "\(error)")
        }
    }

    /// The next step of `session`'s generation (a token, or the end; after the end, the end again).
    public func next(_ session: LlamaSession) async throws(InferenceError) -> ScheduledStep {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ScheduledStep, any Error>) in
                locked {
                    guard let stream = streams.first(where: { $0.session === session }) else {
                        continuation.resume(throwing: InferenceError(.invalidArgument, "this session has no generation running"))
                        return
                    }
                    if !stream.buffered.isEmpty {
                        continuation.resume(returning: stream.buffered.removeFirst())
                    } else if let final = stream.final {
                        continuation.resume(returning: ScheduledStep(step: .finished(final, trailingText: ""), logprobs: nil))
                    } else {
                        stream.waiter = continuation
                    }
                    pthread_cond_broadcast(condition)
                }
            }
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError(.cancelled, "\(error)")
        }
    }

    /// Ends `session`'s generation (finished, cancelled, or its reader gone): frees its place in
    /// the steps and its KV reservation. A prefill in progress is cancelled.
    public func end(_ session: LlamaSession) {
        locked {
            defer { keep(session) }
            if let index = streams.firstIndex(where: { $0.session === session }) {
                let stream = streams.remove(at: index)
                reservedBytes -= stream.reservation
                stream.waiter?.resume(throwing: InferenceError(.cancelled, "the generation was ended"))
                stream.waiter = nil
            }
            if let index = prefills.firstIndex(where: { $0.session === session }) {
                let job = prefills.remove(at: index)
                reservedBytes -= job.reservation
                job.continuation.resume(throwing: InferenceError(.cancelled, "the generation was ended"))
            }
        }
    }

    // MARK: The step loop

    private func loop() {
        var rows: [DecoderRow] = []
        pthread_mutex_lock(mutex)
        while !stopping {
            // Prompts cancelled while queued end now.
            while let index = prefills.firstIndex(where: { $0.isCancelled() }) {
                let job = prefills.remove(at: index)
                reservedBytes -= job.reservation
                statistics.cancelledPrefills += 1
                job.continuation.resume(throwing: InferenceError(.cancelled, "the prompt was cancelled"))
            }
            let now = SessionState.seconds()
            let limit = model.tokenRateLimit
            var earliestDue = Double.infinity
            let decoding = streams.filter { stream in
                guard stream.final == nil, stream.buffered.count < Self.lookahead else { return false }
                let delay = stream.pacer.delay(limit: limit, now: now)
                if delay > 0 {
                    earliestDue = min(earliestDue, now + delay)
                    return false
                }
                return true
            }
            let job = prefills.first
            if decoding.isEmpty && job == nil {
                if earliestDue.isFinite {
                    var deadline = timespec()
                    clock_gettime(CLOCK_REALTIME, &deadline)
                    let wait = min(earliestDue - now, 10)
                    let total = Double(deadline.tv_sec) + Double(deadline.tv_nsec) * 1e-9 + wait
                    deadline.tv_sec = Int(total)
                    deadline.tv_nsec = Int((total - total.rounded(.down)) * 1e9)
                    pthread_cond_timedwait(condition, mutex, &deadline)
                } else {
                    pthread_cond_wait(condition, mutex)
                }
                continue
            }
            let (steps, prefillCount, completed) = runStep(decoding: decoding, job: job, rows: &rows)
            let stepTime = SessionState.seconds()
            for (stream, step) in steps {
                if case .finished(let reason, _) = step.step { stream.final = reason } else { stream.pacer.record(limit: limit, now: stepTime) }
                if let waiter = stream.waiter {
                    stream.waiter = nil
                    waiter.resume(returning: step)
                } else {
                    stream.buffered.append(step)
                }
            }
            if let job, let index = prefills.firstIndex(where: { $0 === job }) {
                if !completed {
                    prefills.remove(at: index)
                    reservedBytes -= job.reservation
                    statistics.cancelledPrefills += 1
                    job.continuation.resume(throwing: InferenceError(.cancelled, "the prompt was cancelled"))
                } else if prefillCount > 0 {
                    statistics.prefillRows += prefillCount
                    let finished: (prompt: [Int32], echo: Bool, cache: KVCache)? = job.session.state.withLock { state in
                        state.commitPrefill(prefillCount)
                        return state.prefillRemaining == 0 ? (Array(state.prompt.dropLast()), state.parameters.echo, state.cache) : nil
                    }
                    if let finished {
                        prefills.remove(at: index)
                        if !finished.echo, prefixCache.capacityBytes > 0 {
                            prefixCache.shrink(to: kvBudgetBytes - reservedBytes - keptBytes() - KVCache.bytes(config: model.config, positions: finished.prompt.count))
                            prefixCache.insert(finished.prompt, from: finished.cache, config: model.config)
                        }
                        streams.append(Stream(session: job.session, reservation: job.reservation))
                        job.continuation.resume(returning: job.cached)
                    }
                }
            }
        }
        // Shutting down: nothing waits forever.
        for job in prefills { job.continuation.resume(throwing: InferenceError(.cancelled, "the scheduler stopped")) }
        for stream in streams { stream.waiter?.resume(throwing: InferenceError(.cancelled, "the scheduler stopped")) }
        prefills = []
        streams = []
        pthread_mutex_unlock(mutex)
    }

    /// Runs one forward pass: one row per decoding stream and a chunk of `job`'s prompt. Called
    /// and returning with `mutex` held; the pass itself runs unlocked. Returns the steps to
    /// deliver, how many prompt rows ran, and false if the prompt was cancelled (then nothing of
    /// this pass counts; the decode rows run again next step).
    ///
    /// Rows are taken and results applied under `mutex`, and only for streams still registered
    /// then (compared by identity): a stream ended while the pass ran (`end`) may already have a
    /// new generation started on its session, whose state this pass must not touch.
    private func runStep(decoding: [Stream], job: PrefillJob?, rows: inout [DecoderRow]) -> ([(Stream, ScheduledStep)], Int, Bool) {
        rows.removeAll(keepingCapacity: true)
        var steps: [(Stream, ScheduledStep)] = []
        var running: [Stream] = []
        for stream in decoding.prefix(model.prefillChunk) {
            let work = stream.session.state.withLock { $0.decodeRow(model: model) }
            switch work {
            case .ended(let step): steps.append((stream, ScheduledStep(step: step, logprobs: nil)))
            case .row(let row):
                rows.append(row)
                running.append(stream)
            }
        }
        let decodeCount = rows.count
        if let job, decodeCount < model.prefillChunk {
            job.session.state.withLock { $0.prefillRows(limit: model.prefillChunk - decodeCount, into: &rows) }
        }
        let prefillCount = rows.count - decodeCount
        guard !rows.isEmpty else { return (steps, 0, true) }
        let shouldStop: (() -> Bool)? = prefillCount > 0 ? job.map { job in { job.isCancelled() } } : nil
        pthread_mutex_unlock(mutex)
        let completed = rows.withUnsafeBufferPointer { buffer in
            model.withDecoder { $0.forward(buffer, pool: model.pool, shouldStop: shouldStop) }
        }
        pthread_mutex_lock(mutex)
        guard completed else { return (steps, 0, false) }
        for stream in running where streams.contains(where: { $0 === stream }) {
            let step: ScheduledStep = stream.session.state.withLock { state in
                let step = state.completeDecode(model: model)
                return ScheduledStep(step: step, logprobs: state.lastLogprobs)
            }
            steps.append((stream, step))
        }
        statistics.steps += 1
        statistics.decodeRows += decodeCount
        statistics.widestStep = max(statistics.widestStep, decodeCount)
        return (steps, prefillCount, true)
    }

    /// Called with `mutex` held when `session`'s generation ends: its history (if any) now
    /// counts as kept, most recently used last.
    private func keep(_ session: LlamaSession) {
        keptCaches.removeAll { $0.session === session || $0.session == nil }
        let positions = session.state.withLock { $0.history.count }
        guard positions > 0 else { return }
        keptCaches.append(KeptCache(session: session, bytes: KVCache.bytes(config: model.config, positions: positions)))
    }

    /// Bytes of the kept histories of sessions still alive; called with `mutex` held.
    private func keptBytes() -> Int {
        keptCaches.removeAll { $0.session == nil }
        return keptCaches.reduce(0) { $0 + $1.bytes }
    }

    private func locked<Result>(_ body: () -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
