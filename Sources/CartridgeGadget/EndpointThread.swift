import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An OS thread for blocking FunctionFS I/O whose current system call can be interrupted.
///
/// A blocked `read`/`write` on an endpoint file cannot be woken by closing the descriptor, but
/// FunctionFS waits interruptibly: a signal makes the call return `EINTR` after dequeuing the USB
/// request, without losing completed data (the approach adbd takes with SIGUSR1). `cancel()` marks
/// the thread cancelled and signals it until the running job has returned; jobs re-check
/// `isCancelled` on every `EINTR` and before each system call, so after `cancel()` returns no
/// system call is in flight and none starts.
final class EndpointThread: @unchecked Sendable {
    // @unchecked: `jobs`, `stopping`, `running` and `joined` are guarded by `mutex`; `cancelled`
    // is atomic; the pthread handles live in heap memory that never moves.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var running = false
    private var joined = false
    private var thread = pthread_t()
    private let cancelled = Atomic<Bool>(false)
    let name: String

    /// The signal used to interrupt blocked calls; its handler does nothing (and has no SA_RESTART).
    static let interruptSignal = SIGUSR2

    private static let handlerInstalled: Bool = {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        return sigaction(EndpointThread.interruptSignal, &action, nil) == 0
    }()

    init(name: String) {
        precondition(EndpointThread.handlerInstalled, "cannot install the \(EndpointThread.interruptSignal) handler")
        self.name = name
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let owner = Unmanaged<EndpointThread>.fromOpaque(raw!).takeRetainedValue()
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

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    private func loop() {
        // Threads inherit the creator's signal mask, and the threads of Swift's global executor
        // block every signal: unblock the interrupt signal here or `cancel()` could never wake us.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, EndpointThread.interruptSignal)
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping { pthread_cond_wait(condition, mutex) }
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
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    /// Queues `job` without waiting for it. Returns false after `shutdown()`.
    @discardableResult
    func submit(_ job: @escaping () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stopping { return false }
        jobs.append(job)
        pthread_cond_broadcast(condition)
        return true
    }

    /// Runs `body` on this thread. Returns nil if the thread was shut down before it ran.
    func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
            let accepted = submit { continuation.resume(returning: body()) }
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    /// Marks the thread cancelled and interrupts the running job until it returns. Later jobs
    /// see `isCancelled` and must not start system calls. Must not be called from this thread.
    func cancel() {
        cancelled.store(true, ordering: .releasing)
        var attempts = 0
        while true {
            pthread_mutex_lock(mutex)
            let busy = running || !jobs.isEmpty
            pthread_mutex_unlock(mutex)
            if !busy || joinedAlready { return }
            pthread_kill(thread, EndpointThread.interruptSignal)
            attempts += 1
            usleep(attempts < 50 ? 200 : 2_000)
        }
    }

    private var joinedAlready: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return joined
    }

    /// Cancels, lets the thread drain its (now failing) jobs, and joins it. Idempotent.
    func shutdown() {
        cancel()
        pthread_mutex_lock(mutex)
        stopping = true
        let mustJoin = !joined
        joined = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        if mustJoin { pthread_join(thread, nil) }
    }
}
