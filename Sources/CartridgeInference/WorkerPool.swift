#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A fork-join pool of persistent threads for splitting one matrix-vector product (or the heads
/// of an attention layer) across cores. The calling thread is worker 0; helpers spin briefly on an
/// atomic epoch after each job (fork-join in about a microsecond) and then park on a condition
/// variable, so an idle pool costs no CPU. A job never waits for a parked helper to wake: the
/// caller runs the worker indices nobody has claimed yet.
///
/// `activeWorkers` can be changed from any thread at any time; it applies from the next job. If two
/// threads call `run` at once, the second runs its job alone on its own thread instead of waiting.
///
/// `@unchecked Sendable`: `job` is written only by the thread that holds `busy` before it publishes
/// the job with a release store of `epoch`, and read by helpers only after an acquire load of
/// `epoch` and a claim of one of that job's indices, and before they count it in `finished`,
/// which the caller waits for before the job ends; the mutex and condition variable are pthread
/// objects used through stable pointers.
public final class WorkerPool: @unchecked Sendable {
    public let maximumWorkers: Int
    private let requestedWorkers: Atomic<Int>
    /// `jobNumber << 8 | workers` of the latest job, in one atomic so a helper never pairs one
    /// job's number with another's worker count.
    private let epoch = Atomic<Int>(0)
    /// `jobNumber << 16 | next unclaimed worker index` of the latest job. A helper takes an index
    /// only by a compare-exchange that also matches the job number, so it never joins a job that
    /// has ended; the caller runs the indices no helper has claimed yet itself instead of
    /// waiting for a parked helper to wake (a futex wake-up, tens of microseconds here).
    private let claims = Atomic<Int>(0)
    /// Worker indices of the current job that helpers have finished.
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    /// The job body; valid for helpers whose index is below the published worker count.
    private var job: ((Int, Int) -> Void)?
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var threads: [pthread_t] = []
    /// Jobs below about this many multiply-adds run on the calling thread alone.
    static let minimumParallelCost = 48 * 1024
    /// How long a helper spins for the next job before it parks.
    private static let spinNanoseconds: Int = 200_000

    /// A pool that can use up to `maximumWorkers` threads (the caller plus `maximumWorkers - 1` helpers).
    public init(maximumWorkers: Int) {
        let maximum = min(max(1, maximumWorkers), 255)
        self.maximumWorkers = maximum
        requestedWorkers = Atomic(maximum)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for index in 1..<maximum {
            let context = Unmanaged.passRetained(HelperContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<HelperContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.helperLoop(index: context.index)
                return nil
            }, context)
            if status == 0 {
                threads.append(thread)
            } else {
                Unmanaged<HelperContext>.fromOpaque(context).release()
                break
            }
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        epoch.add(1 << 8, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Threads that jobs use from now on, clamped to 1...maximumWorkers (the power knob).
    public var activeWorkers: Int {
        get { min(max(1, requestedWorkers.load(ordering: .relaxed)), threads.count + 1) }
        set { requestedWorkers.store(newValue, ordering: .relaxed) }
    }

    /// Runs `body(worker, workers)` once for each worker in 0..<workers and returns when all have
    /// finished; up to `workers` threads run them at once (the caller takes index 0, helpers and
    /// then the caller claim the others). `body` must split its work by `worker` itself.
    public func run(_ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = activeWorkers
        guard workers > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            body(0, 1)
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            finished.store(0, ordering: .relaxed)
            let number = epoch.load(ordering: .relaxed) >> 8 + 1
            claims.store(number << 16 | 1, ordering: .relaxed)
            epoch.store(number << 8 | workers, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            body(0, workers)
            var done = 1
            while let worker = claim(job: number, workers: workers) {
                body(worker, workers)
                done += 1
            }
            while finished.load(ordering: .acquiring) + done < workers {}
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// The next unclaimed worker index of job `number`, or nil if that job has none left (or has
    /// ended).
    @inline(__always)
    private func claim(job number: Int, workers: Int) -> Int? {
        var current = claims.load(ordering: .acquiring)
        while current >> 16 == number, current & 0xFFFF < workers {
            let (exchanged, original) = claims.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return current & 0xFFFF }
            current = original
        }
        return nil
    }

    /// Runs `body(range)` over contiguous slices of 0..<count that together cover it once, each a
    /// multiple of `grain` long (except the last). `costPerItem` (about the multiply-adds per item)
    /// keeps small jobs on the calling thread, where a fork-join would cost more than it saves.
    ///
    /// The slices are claimed from a shared counter as workers come free (up to
    /// `slicesPerWorker` per worker, fewer for small jobs), not dealt one per worker: with fixed
    /// halves the worker that started later or ran slower (a vCPU's neighbours) left the other
    /// waiting, 7-8 % of each thread's time in a four-stream decode (perf). A body that re-reads
    /// shared data per slice (the encoder's token blocks read every weight) passes 1.
    public func parallelFor(
        _ count: Int, grain: Int = 1, costPerItem: Int = .max, slicesPerWorker: Int = WorkerPool.slicesPerWorker,
        _ body: (Range<Int>) -> Void
    ) {
        parallelFor(count, grain: grain, costPerItem: costPerItem, slicesPerWorker: slicesPerWorker) { _, range in body(range) }
    }

    /// `parallelFor`, with the index of the worker (0..<workers) that runs each slice: per-worker
    /// scratch (a worker's own copy of a shared input) is prepared by each worker once per call.
    public func parallelFor(
        _ count: Int, grain: Int = 1, costPerItem: Int = .max, slicesPerWorker: Int = WorkerPool.slicesPerWorker,
        byWorker body: (_ worker: Int, Range<Int>) -> Void
    ) {
        let (total, overflow) = count.multipliedReportingOverflow(by: costPerItem)
        if total < Self.minimumParallelCost, !overflow {
            if count > 0 { body(0, 0..<count) }
            return
        }
        let chunks = (count + grain - 1) / grain
        let workers = activeWorkers
        let perWorker = max(1, slicesPerWorker)
        let wanted = overflow ? workers * perWorker : total / Self.minimumSliceCost
        let slices = min(chunks, max(workers, min(wanted, workers * perWorker)))
        let next = Atomic<Int>(0)
        run { worker, _ in
            while true {
                let slice = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if slice >= slices { return }
                let start = min(count, chunks * slice / slices * grain)
                let end = min(count, chunks * (slice + 1) / slices * grain)
                if start < end { body(worker, start..<end) }
            }
        }
    }

    /// At most this many slices per worker in `parallelFor` (the last one to finish leaves the
    /// others idle for at most one slice, about 1/8 of a worker's share).
    public static let slicesPerWorker = 4
    /// About the multiply-adds worth one slice (a few microseconds): a claim costs a contended
    /// atomic add (~0.1 µs).
    static let minimumSliceCost = 128 * 1024

    private func helperLoop(index: Int) {
        var seen = 0  // the initial epoch: a job published before this thread started still runs
        while true {
            var current = epoch.load(ordering: .acquiring)
            if current == seen {
                let deadline = Self.now() + Self.spinNanoseconds
                var spins = 0
                while current == seen {
                    spins += 1
                    if spins & 1023 == 0, Self.now() > deadline { break }
                    current = epoch.load(ordering: .acquiring)
                }
            }
            if current == seen {
                sleepers.add(1, ordering: .sequentiallyConsistent)
                pthread_mutex_lock(mutex)
                while epoch.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(condition, mutex) }
                pthread_mutex_unlock(mutex)
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                current = epoch.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            // Helpers 1..<workers take part (the power knob bounds the threads working); each
            // claims indices of this job while there are any.
            let workers = current & 0xFF
            if index < workers {
                while let worker = claim(job: current >> 8, workers: workers) {
                    execute(worker, workers)
                    // Only now: `execute` has released its copy of the job, which `run` checks is unique.
                    finished.add(1, ordering: .releasing)
                }
            }
        }
    }

    @inline(never)
    private func execute(_ index: Int, _ workers: Int) {
        job?(index, workers)
    }

    private static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

private final class HelperContext: @unchecked Sendable {
    // Sent once to a new thread, then only read there.
    // Unowned: the pool joins its helpers in deinit, before its memory goes away.
    unowned(unsafe) let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
