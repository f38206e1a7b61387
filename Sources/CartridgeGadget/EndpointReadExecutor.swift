import Synchronization

/// The OUT endpoint's thread (`ffs-rx`) as a `TaskExecutor`: a task that prefers it
/// (`FunctionFSTransport.preferredTaskExecutor`) runs on that thread between its reads, so a
/// received transfer resumes the task that waits for it on the thread that read it, with no
/// wake-up of another thread: the echo of a transfer is submitted before the next read begins.
///
/// The thread spends most of its time in a blocking read(2), which nothing may interrupt (an
/// interrupted FunctionFS read loses what its request already holds), so a job enqueued while it
/// reads, or waits, goes to the global concurrent executor instead: a job for a task that prefers
/// this executor may run on another thread, as a task executor preference allows (the task is not
/// isolated to it). Jobs enqueued from the thread itself (a delivery resuming the receiver), or
/// while it runs jobs, run on it before its next read. Once the session's reading ends, every job
/// goes to the global executor. Jobs must not block: the thread's other work is reading.
final class EndpointReadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: all state is in `state` (a Mutex).
    private struct State {
        var queued: [UnownedJob] = []
        /// In a blocking read or a pause: new jobs go elsewhere.
        var blocked = false
        var stopped = false
    }

    private let state = Mutex(State())

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let queued = state.withLock { state -> Bool in
            guard !state.blocked, !state.stopped else { return false }
            state.queued.append(job)
            return true
        }
        if !queued { globalConcurrentExecutor.enqueue(job) }
    }

    /// On the endpoint thread: runs the queued jobs, and those they queue, until none is left.
    func runQueued() {
        let executor = asUnownedTaskExecutor()
        while true {
            let ready = state.withLock { state in
                defer { state.queued.removeAll(keepingCapacity: true) }
                return state.queued
            }
            if ready.isEmpty { return }
            for job in ready { job.runSynchronously(on: executor) }
        }
    }

    /// On the endpoint thread, before a blocking call: false (nothing changed) when jobs are
    /// queued, to run first; true when the thread may block (until `unblock`, jobs go elsewhere).
    func block() -> Bool {
        state.withLock { state in
            guard state.queued.isEmpty else { return false }
            state.blocked = true
            return true
        }
    }

    func unblock() { state.withLock { $0.blocked = false } }

    /// The session's reading ended: what is queued, and every later job, goes to the global executor.
    func stop() {
        let left = state.withLock { state in
            state.stopped = true
            defer { state.queued = [] }
            return state.queued
        }
        for job in left { globalConcurrentExecutor.enqueue(job) }
    }
}
