import CartridgeSystem
import Synchronization
import Testing
@testable import CartridgeGadget
#if canImport(Glibc)
import Glibc
#endif

/// `EndpointReadExecutor` without an endpoint: a dedicated thread plays the OUT endpoint's
/// thread (runs the queued jobs, then "reads": blocks for a moment). A task that prefers the
/// executor and is resumed from that thread (as a delivery resumes the receiver) goes on on that
/// thread; a job enqueued while the thread blocks, or after `stop`, goes to the global executor
/// and still runs.
@Suite struct EndpointReadExecutorTests {
    /// The stand-in endpoint thread: until `done`, runs queued jobs, runs `beforeRead` (a
    /// delivery), then blocks 200 µs as in a read.
    final class ReadingLoop: @unchecked Sendable {
        let executor = EndpointReadExecutor()
        let thread = DedicatedThread(name: "test-ffs-rx")
        let done = Atomic<Bool>(false)
        let pending = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func start() {
            thread.submit { [self] in
                while !done.load(ordering: .acquiring) {
                    executor.runQueued()
                    // The "delivery": resume a waiting task from this thread, outside a block.
                    if let continuation = pending.withLock({ value -> CheckedContinuation<Void, Never>? in
                        defer { value = nil }
                        return value
                    }) {
                        continuation.resume()
                        continue  // its job is queued here: run it before blocking
                    }
                    if executor.block() {
                        usleep(200)
                        executor.unblock()
                    }
                }
                executor.stop()
            }
        }

        func finish() {
            done.store(true, ordering: .releasing)
            thread.shutdown()
        }
    }

    @Test func aTaskResumedByTheReadingThreadRunsOnIt() async {
        let loop = ReadingLoop()
        loop.start()
        defer { loop.finish() }
        let onReader = await withTaskExecutorPreference(loop.executor) { () async -> [Bool] in
            var seen: [Bool] = []
            for _ in 0..<20 {
                await withCheckedContinuation { continuation in loop.pending.withLock { $0 = continuation } }
                seen.append(loop.thread.isCurrentThread)
            }
            return seen
        }
        #expect(onReader.count == 20)
        #expect(onReader.allSatisfy { $0 }, "every resume from the reading thread went on there: \(onReader)")
    }

    @Test func jobsFromElsewhereAndAfterStopStillRun() async {
        let loop = ReadingLoop()
        loop.start()
        // Resumed from another thread (mostly while the loop blocks): the global executor may
        // take them; none is lost.
        let count = await withTaskExecutorPreference(loop.executor) { () async -> Int in
            var count = 0
            for _ in 0..<200 {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DedicatedThread.detachedResume(continuation)
                }
                count += 1
            }
            return count
        }
        #expect(count == 200)
        loop.finish()  // the loop ends and stops the executor
        let after = await withTaskExecutorPreference(loop.executor) { () async -> Bool in
            await Task.yield()
            return !loop.thread.isCurrentThread
        }
        #expect(after, "after stop, jobs run elsewhere")
    }
}

extension DedicatedThread {
    /// Resumes `continuation` from a new short-lived thread.
    static func detachedResume(_ continuation: CheckedContinuation<Void, Never>) {
        let thread = DedicatedThread(name: "test-resume")
        thread.submit { continuation.resume() }
        Task.detached { thread.shutdown() }
    }
}
