import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One OS thread that runs blocking work (a `read(2)` on a socket or FunctionFS endpoint,
/// a synchronous libusb transfer, a forward pass) one job at a time, so that the cooperative pool
/// never blocks.
///
/// Jobs are bridged to `async` through a continuation. `shutdown()` lets queued jobs finish and
/// joins the thread. Whoever owns a blocking descriptor must unblock a running job first (e.g.
/// `shutdown(fd, SHUT_RDWR)` on a socket), unless the thread is **interruptible**: some calls
/// cannot be woken by closing the descriptor (a FunctionFS endpoint `read`/`write`), but they wait
/// interruptibly, so a signal makes them return `EINTR` without losing completed data (the approach
/// adbd takes with SIGUSR1). `cancel()` marks the thread cancelled and signals it until the
/// running job has returned; jobs re-check `isCancelled` on every `EINTR` and before each system
/// call, so after `cancel()` returns no system call is in flight and none starts.
///
/// The OS thread is created with the first job, so a thread that is never used (the send thread
/// of a socket whose writes all go through at once) costs no thread at all.
public final class DedicatedThread: @unchecked Sendable {
    // @unchecked: all mutable state (`jobs`, `stopping`, `running`, `joined`) is guarded by `mutex`;
    // `cancelled` is atomic; the pthread primitives live in heap memory that never moves.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var running = false
    private var joined = false
    private var started = false
    private var thread: pthread_t = pthread_t()
    private let cancelled = Atomic<Bool>(false)
    public let name: String
    /// Whether `cancel()` interrupts a blocked system call with `interruptSignal`.
    public let isInterruptible: Bool

    /// The signal that interrupts blocked calls on interruptible threads; its handler does nothing
    /// and is installed without SA_RESTART, so the call returns EINTR.
    public static let interruptSignal = SIGUSR2

    private static let handlerInstalled: Bool = {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        return sigaction(DedicatedThread.interruptSignal, &action, nil) == 0
    }()

    public init(name: String, interruptible: Bool = false) {
        if interruptible {
            precondition(DedicatedThread.handlerInstalled, "cannot install the \(DedicatedThread.interruptSignal) handler")
        }
        self.name = name
        isInterruptible = interruptible
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Creates the OS thread; called with `mutex` held, once. The thread keeps `self` alive until it exits.
    private func startThread() {
        started = true
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let owner = Unmanaged<DedicatedThread>.fromOpaque(raw!).takeRetainedValue()
            owner.loop()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Set by `cancel()`; jobs of an interruptible thread check it before each system call.
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Whether the caller runs on this thread.
    public var isCurrentThread: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return started && pthread_equal(pthread_self(), thread) != 0
    }

    private func loop() {
        if isInterruptible {
            // Threads inherit the creator's signal mask, and the threads of Swift's global executor
            // block every signal: unblock the interrupt signal or `cancel()` could never wake us.
            var unblocked = sigset_t()
            sigemptyset(&unblocked)
            sigaddset(&unblocked, DedicatedThread.interruptSignal)
            pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        }
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping {
                pthread_cond_wait(condition, mutex)
            }
            if jobs.isEmpty && stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs.removeFirst()
            running = true
            pthread_mutex_unlock(mutex)
            job()
            pthread_mutex_lock(mutex)
            running = false
            pthread_mutex_unlock(mutex)
        }
    }

    /// Queues `job` without waiting for it. Returns false after `shutdown()`.
    @discardableResult
    public func submit(_ job: @escaping () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stopping { return false }
        jobs.append(job)
        if !started { startThread() }
        pthread_cond_signal(condition)
        return true
    }

    /// Runs `body` on this thread and returns its result. Throws `DedicatedThreadStopped`
    /// if the thread has been shut down.
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let accepted = submit {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            if !accepted { continuation.resume(throwing: DedicatedThreadStopped(name: name)) }
        }
    }

    /// Marks the thread cancelled; on an interruptible thread, also interrupts the running job
    /// until the queue is empty. Must not be called from this thread.
    public func cancel() {
        cancelled.store(true, ordering: .releasing)
        guard isInterruptible else { return }
        var attempts = 0
        while true {
            pthread_mutex_lock(mutex)
            let busy = (running || !jobs.isEmpty) && !joined
            pthread_mutex_unlock(mutex)
            if !busy { return }
            pthread_kill(thread, DedicatedThread.interruptSignal)
            attempts += 1
            usleep(attempts < 50 ? 200 : 2_000)
        }
    }

    /// Stops accepting jobs, lets queued ones finish (an interruptible thread is cancelled first,
    /// so its jobs fail fast), and joins the thread. Idempotent. Must not be called from the thread.
    public func shutdown() {
        if isInterruptible { cancel() }
        pthread_mutex_lock(mutex)
        stopping = true
        let mustJoin = !joined && started
        joined = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        if mustJoin { pthread_join(thread, nil) }
    }
}

/// The job was submitted after `DedicatedThread.shutdown()`.
public struct DedicatedThreadStopped: Error, Sendable, CustomStringConvertible {
    public var name: String
    public var description: String { "thread '\(name)' has been shut down" }
}
