import CLibUSB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The thread that runs `libusb_handle_events` for a context: transfer completions and hotplug
/// callbacks are delivered here. It owns the context from then on: `stop()` wakes it with
/// `libusb_interrupt_event_handler`, and the thread calls `libusb_exit` as it ends; `stop()` joins
/// it, unless called on the thread itself (a job dropped the last reference), which then ends
/// detached once that job returns.
///
/// It is also a `TaskExecutor`: a task that prefers it (`withTaskExecutorPreference`) runs on
/// this thread between event-handling calls, so a transfer's completion resumes the task that
/// waits for it on the thread that saw the completion, with no wake-up of another thread (the
/// one hand-off a single-threaded C client does not pay). Jobs run in the order they came;
/// enqueueing interrupts the event wait. Jobs must not block: the thread's other work is every
/// transfer's completion. After `stop()`, jobs go to the global concurrent executor.
final class LibUSBEventThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `context` is immutable and libusb contexts are thread-safe; `stopping` is atomic;
    // `thread` is written once in init, before any other access; `jobs` is a Mutex.
    private let context: OpaquePointer
    private let stopping = Atomic<Bool>(false)
    private var thread = pthread_t()
    private let joined = Atomic<Bool>(false)
    private let jobs = Mutex<(queued: [UnownedJob], stopped: Bool)>(([], false))

    init(context: OpaquePointer) {
        self.context = context
        let box = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let owner = Unmanaged<LibUSBEventThread>.fromOpaque(raw!).takeRetainedValue()
            owner.loop()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = jobs.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.queued.append(job)
            // Under the lock: the thread marks itself stopped under it before `libusb_exit`.
            libusb_interrupt_event_handler(context)
            return true
        }
        if !accepted { globalConcurrentExecutor.enqueue(job) }
    }

    /// Whether the caller runs on this event thread.
    var isCurrentThread: Bool { pthread_equal(pthread_self(), thread) != 0 }

    private func loop() {
        let executor = asUnownedTaskExecutor()
        while !stopping.load(ordering: .acquiring) {
            let ready = jobs.withLock { state in
                defer { state.queued.removeAll(keepingCapacity: true) }
                return state.queued
            }
            for job in ready { job.runSynchronously(on: executor) }
            // After running jobs, only look for due completions (no wait): the jobs may have
            // queued more, and a task that keeps yielding must not keep events from being handled.
            var timeout = ready.isEmpty ? timeval(tv_sec: 1, tv_usec: 0) : timeval(tv_sec: 0, tv_usec: 0)
            _ = libusb_handle_events_timeout_completed(context, &timeout, nil)
        }
        // Stopped: what is still queued (and anything later) runs on the global executor.
        let left = jobs.withLock { state in
            state.stopped = true
            return state.queued
        }
        for job in left { globalConcurrentExecutor.enqueue(job) }
        libusb_exit(context)
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        libusb_interrupt_event_handler(context)
        guard !joined.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if pthread_equal(pthread_self(), thread) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }
}
