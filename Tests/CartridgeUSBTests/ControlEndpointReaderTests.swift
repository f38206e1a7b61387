import CartridgeSystem
import CartridgeTransport
import Logging
import Synchronization
import Testing
@testable import CartridgeGadget
#if canImport(Glibc)
import Glibc
#endif

/// The ep0 reader without a UDC: a pipe or a directory stands in for ep0.
@Suite("ControlEndpointReader", .timeLimit(.minutes(1)))
struct ControlEndpointReaderTests {
    let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Events received, and the failure that ended the reader (if any), collected off its thread.
    final class Outcome: Sendable {
        let events = Mutex<[FunctionFSEvent.Kind]>([])
        let failure = AsyncStream.makeStream(of: GadgetError.self)
    }

    func start(_ reader: ControlEndpointReader) -> Outcome {
        let outcome = Outcome()
        reader.start(
            events: { events in outcome.events.withLock { $0 += events.map(\.kind) } },
            failed: { error in
                outcome.failure.continuation.yield(error)
                outcome.failure.continuation.finish()
            })
        return outcome
    }

    /// Issue 13: an ep0 that can no longer be read ends the reader with an error (the listener
    /// then fails every accept, and the daemon ends), where it used to log and retry for ever.
    @Test func anUnreadableEndpointEndsTheReaderWithAnError() async throws {
        let directory = OwnedDescriptor(adopting: open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        // poll says a directory is readable; read(2) fails with EISDIR every time.
        let reader = try ControlEndpointReader(endpoint: directory.rawValue, logger: logger, retryDelay: .milliseconds(1))
        let outcome = start(reader)
        var failures = outcome.failure.stream.makeAsyncIterator()
        let failure = try #require(await failures.next())
        #expect(failure.code == .functionFS)
        #expect(failure.message.contains("\(ControlEndpointReader.maximumConsecutiveReadFailures) times"))
        #expect((failure.cause as? SystemCallError)?.code == .isADirectory)
        reader.stop()
        withExtendedLifetime(directory) {}
    }

    @Test func eventsArriveInOrderAndAnEndOfFileIsAFailure() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let readEnd = OwnedDescriptor(adopting: ends[0])
        let writeEnd = OwnedDescriptor(adopting: ends[1])
        let reader = try ControlEndpointReader(endpoint: readEnd.rawValue, logger: logger)
        let outcome = start(reader)
        var bytes = [UInt8](repeating: 0, count: 8) + [0, 0, 0, 0]  // BIND
        bytes += [UInt8](repeating: 0, count: 8) + [2, 0, 0, 0]  // ENABLE
        try bytes.withUnsafeBytes { raw in try writeEnd.writeAll(raw) }
        try writeEnd.close()
        var failures = outcome.failure.stream.makeAsyncIterator()
        let failure = try #require(await failures.next())
        #expect(failure.message.contains("end of file"))
        #expect(outcome.events.withLock { $0 } == [.bind, .enable])
        reader.stop()
        withExtendedLifetime(readEnd) {}
    }

    @Test func stopWakesAnIdleReaderWithoutAFailure() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let readEnd = OwnedDescriptor(adopting: ends[0])
        let writeEnd = OwnedDescriptor(adopting: ends[1])
        let reader = try ControlEndpointReader(endpoint: readEnd.rawValue, logger: logger)
        let outcome = start(reader)
        try await Task.sleep(for: .milliseconds(20))
        reader.stop()
        outcome.failure.continuation.finish()
        var failures = outcome.failure.stream.makeAsyncIterator()
        #expect(await failures.next() == nil)
        withExtendedLifetime((readEnd, writeEnd)) {}
    }
}

@Suite("FunctionFS disconnect rule")
struct FunctionFSDisconnectTests {
    @Test(arguments: [(ESHUTDOWN, true), (ENODEV, true), (ECONNRESET, true), (EIO, true), (EPIPE, false), (EBADF, false), (EINVAL, false)])
    func endpointErrnosThatMeanTheHostWentAway(errno: Int32, disconnected: Bool) {
        let error = SystemCallError(systemCall: "read", errno: errno)
        #expect(FunctionFSTransport.meansDisconnected(error) == disconnected)
        let sorted = TransportError.from(error, context: "receive", meansDisconnected: FunctionFSTransport.meansDisconnected)
        #expect((sorted.code == .disconnected) == disconnected)
    }
}
