import CartridgeSystem
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The syscall layer: EINTR retried in one place, cancellation of interrupted calls.
@Suite("SystemCall", .serialized, .timeLimit(.minutes(1)))
struct SystemCallTests {
    /// A pipe whose ends close themselves.
    struct Pipe {
        let readEnd: OwnedDescriptor
        let writeEnd: OwnedDescriptor
        init() throws {
            var ends: [Int32] = [0, 0]
            _ = try SystemCall.retryingInterrupts("pipe") { pipe(&ends) }
            readEnd = OwnedDescriptor(adopting: ends[0])
            writeEnd = OwnedDescriptor(adopting: ends[1])
        }
    }

    /// A read blocked on an empty pipe is interrupted by signals (the interruptible thread's
    /// SIGUSR2 handler has no SA_RESTART, so read(2) returns EINTR): it is retried until data comes.
    @Test func anInterruptedReadIsRetriedUntilDataArrives() async throws {
        let pipe = try Pipe()
        let reader = DedicatedThread(name: "eintr-reader", interruptible: true)
        let signaller = DedicatedThread(name: "eintr-signaller")
        defer {
            signaller.shutdown()
            reader.shutdown()
        }
        let calls = Atomic<Int>(0)
        let descriptor = pipe.readEnd.rawValue
        async let received: Int = reader.run {
            try SystemCall.retryingInterrupts("read") {
                calls.add(1, ordering: .relaxed)
                var buffer = [UInt8](repeating: 0, count: 16)
                return read(descriptor, &buffer, buffer.count)
            }
        }
        // `cancel()` signals the reader until its job returns (it only returns once data came),
        // but only while the job runs: so it is sent once the job has begun, and the data is
        // written once the read has been interrupted and retried. No fixed sleeps: a loaded
        // machine may start the reader late.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while calls.load(ordering: .relaxed) < 1 && clock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        signaller.submit { reader.cancel() }
        while calls.load(ordering: .relaxed) < 2 && clock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        try [UInt8]("hello".utf8).withUnsafeBytes { raw in try pipe.writeEnd.writeAll(raw) }
        #expect(try await received == 5)
        #expect(calls.load(ordering: .relaxed) > 1, "the read was never interrupted, so nothing was retried")
    }

    /// With `unless:`, an interrupted call of a cancelled thread is not retried: ECANCELED.
    @Test func anInterruptedReadOfACancelledThreadFailsWithCancelled() async throws {
        let pipe = try Pipe()
        let reader = DedicatedThread(name: "eintr-cancel", interruptible: true)
        let descriptor = pipe.readEnd.rawValue
        let calls = Atomic<Int>(0)
        async let outcome: Result<Int, SystemCallError> = reader.run {
            Result { () throws(SystemCallError) in
                try SystemCall.retryingInterrupts("read", unless: { reader.isCancelled }) {
                    calls.add(1, ordering: .relaxed)
                    var buffer = [UInt8](repeating: 0, count: 16)
                    return read(descriptor, &buffer, buffer.count)
                }
            }
        }
        // Cancelled once the read has begun (cancel() signals only while a job runs).
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while calls.load(ordering: .relaxed) < 1 && clock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        let signaller = DedicatedThread(name: "eintr-cancel-signaller")
        signaller.submit { reader.shutdown() }  // cancels (signals) first, then joins
        let result = try await outcome
        #expect(throws: SystemCallError(systemCall: "read", errno: .cancelled)) { try result.get() }
        signaller.shutdown()
        withExtendedLifetime(pipe) {}
    }

    @Test func otherFailuresAreThrownWithTheirErrno() {
        let error = #expect(throws: SystemCallError.self) {
            try SystemCall.retryingInterrupts("read") {
                var byte: UInt8 = 0
                return read(-1, &byte, 1)
            }
        }
        #expect(error?.code == .badFileDescriptor)
        #expect(error?.systemCall == "read")
        #expect(error?.location.fileID.hasSuffix("SystemCallTests.swift") == true)
    }

    @Test(arguments: [
        (Errno.connectionRefused, "ECONNREFUSED"), (.interrupted, "EINTR"), (.permissionDenied, "EACCES"),
        (.notPermitted, "EPERM"), (.shutDown, "ESHUTDOWN"), (Errno(rawValue: 4095), "errno 4095"),
    ])
    func errnoValuesPrintTheirCName(errno: Errno, name: String) {
        #expect(errno.description == name)
    }

    @Test func aSystemCallErrorPrintsItsCallErrnoAndLocation() {
        let error = SystemCallError(systemCall: "connect", errno: .connectionRefused)
        #expect(error.description.hasPrefix("SystemCallError.ECONNREFUSED: 'connect' failed: Connection refused ["))
        #expect(error.description.contains("SystemCallTests.swift:"))
    }
}
