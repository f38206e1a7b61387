import CartridgeSystem
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The blocking-work thread: jobs in order, shutdown, and interruption of a blocked system call.
@Suite("DedicatedThread", .timeLimit(.minutes(1)))
struct DedicatedThreadTests {
    @Test func runsJobsInOrderAndRefusesWorkAfterShutdown() async throws {
        let thread = DedicatedThread(name: "test")
        let order = Mutex<[Int]>([])
        for index in 0..<5 { thread.submit { order.withLock { $0.append(index) } } }
        #expect(try await thread.run { 42 } == 42)
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
        thread.shutdown()
        thread.shutdown()  // idempotent
        await #expect(throws: DedicatedThreadStopped.self) { try await thread.run { 1 } }
        #expect(!thread.submit {})
    }

    /// A `read` on an empty pipe blocks; closing is not how it is woken: `cancel()` interrupts it
    /// with the signal (EINTR) and the job sees `isCancelled`.
    @Test func cancelInterruptsABlockedRead() async throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]); close(descriptors[1]) }
        let thread = DedicatedThread(name: "blocked", interruptible: true)
        let readEnd = descriptors[0]
        let started = Atomic<Bool>(false)
        let outcome = Task {
            try await thread.run { () -> String in
                var byte: UInt8 = 0
                while true {
                    if thread.isCancelled { return "cancelled" }
                    started.store(true, ordering: .releasing)
                    let count = read(readEnd, &byte, 1)
                    if count < 0 && errno == EINTR { continue }
                    return "read \(count)"
                }
            }
        }
        while !started.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))  // now blocked in read(2)
        thread.cancel()
        #expect(try await outcome.value == "cancelled")
        thread.shutdown()
    }
}
