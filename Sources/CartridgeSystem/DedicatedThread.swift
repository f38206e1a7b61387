#if canImport(Glibc)
import Glibc
#endif

/// One OS thread that runs blocking work (a `read(2)` on a socket or FunctionFS endpoint,
/// a synchronous libusb transfer) one job at a time, so that the cooperative pool never blocks.
///
/// Jobs are bridged to `async` through a continuation. `shutdown()` lets queued jobs finish and
/// joins the thread; whoever owns the blocking descriptor must unblock a running job first
/// (e.g. `shutdown(fd, SHUT_RDWR)`), since a thread cannot be interrupted portably.
public final class DedicatedThread: @unchecked Sendable {
    // @unchecked: all mutable state (`jobs`, `stopping`) is guarded by `mutex`; the pthread
    // primitives live in heap memory that never moves.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var joined = false
    private var thread: pthread_t = pthread_t()
    public let name: String

    public init(name: String) {
        self.name = name
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
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

    private func loop() {
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
            pthread_mutex_unlock(mutex)
            job()
        }
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stopping { return false }
        jobs.append(job)
        pthread_cond_signal(condition)
        return true
    }

    /// Runs `body` on this thread and returns its result. Throws `DedicatedThreadStopped`
    /// if the thread has been shut down.
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let accepted = enqueue {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            if !accepted { continuation.resume(throwing: DedicatedThreadStopped(name: name)) }
        }
    }

    /// Stops accepting jobs, lets queued ones finish, and joins the thread. Idempotent.
    /// Must not be called from the thread itself.
    public func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        let mustJoin = !joined
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
