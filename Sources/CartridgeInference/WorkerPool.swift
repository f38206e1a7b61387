#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A fork-join pool of persistent threads for splitting one matrix-vector product (or the heads
/// of an attention layer) across cores. The calling thread is worker 0; helpers spin briefly on an
/// atomic epoch after each job (fork-join in about a microsecond) and then park on a condition
/// variable, so an idle pool costs no CPU.
///
/// `activeWorkers` can be changed from any thread at any time; it applies from the next job. If two
/// threads call `run` at once, the second runs its job alone on its own thread instead of waiting.
///
/// `@unchecked Sendable`: `job` is written only by the thread that holds `busy` before it publishes
/// the job with a release increment of `epoch`, and read by helpers only after an acquire load of
/// `epoch` and before they decrement `pending`; the mutex and condition variable are pthread objects
/// used through stable pointers.
public final class WorkerPool: @unchecked Sendable {
    public let maximumWorkers: Int
    private let requestedWorkers: Atomic<Int>
    /// `jobNumber << 8 | workers` of the latest job, in one atomic so a helper never pairs one
    /// job's number with another's worker count.
    private let epoch = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
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

    /// Runs `body(worker, workers)` for worker in 0..<workers, on `workers` threads, and returns
    /// when all have finished. `body` must split its work by `worker` itself.
    public func run(_ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = activeWorkers
        guard workers > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            body(0, 1)
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            pending.store(workers - 1, ordering: .relaxed)
            let number = epoch.load(ordering: .relaxed) >> 8 + 1
            epoch.store(number << 8 | workers, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            body(0, workers)
            while pending.load(ordering: .acquiring) > 0 {}
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Runs `body(range)` over contiguous slices of 0..<count, one per worker, each a multiple of
    /// `grain` long (except the last). `costPerItem` (about the multiply-adds per item) keeps
    /// small jobs on the calling thread, where a fork-join would cost more than it saves.
    public func parallelFor(_ count: Int, grain: Int = 1, costPerItem: Int = .max, _ body: (Range<Int>) -> Void) {
        if count.multipliedReportingOverflow(by: costPerItem).partialValue < Self.minimumParallelCost,
           !count.multipliedReportingOverflow(by: costPerItem).overflow {
            if count > 0 { body(0..<count) }
            return
        }
        let chunks = (count + grain - 1) / grain
        run { worker, workers in
            let start = min(count, chunks * worker / workers * grain)
            let end = min(count, chunks * (worker + 1) / workers * grain)
            if start < end { body(start..<end) }
        }
    }

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
            let workers = current & 0xFF
            if index < workers {
                execute(index, workers)
                // Only now: `execute` has released its copy of the job, which `run` checks is unique.
                pending.subtract(1, ordering: .releasing)
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
