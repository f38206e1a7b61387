import CartridgeSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("OwnedDescriptor")
struct OwnedDescriptorTests {
    /// A descriptor of /dev/null moved to a number far above what other tests use, so no other
    /// test's `open` can take the number in the moment between the close and the check.
    func highDescriptor() throws -> Int32 {
        let low = try OwnedDescriptor.open("/dev/null", O_RDONLY)
        let high = fcntl(low.rawValue, F_DUPFD_CLOEXEC, 900)
        try #require(high >= 900)
        return high
    }

    @Test func theDescriptorIsClosedWhenTheOwnerGoesAway() throws {
        let number = try highDescriptor()
        do {
            let owned = OwnedDescriptor(adopting: number)
            #expect(fcntl(owned.rawValue, F_GETFD) != -1)
        }
        #expect(fcntl(number, F_GETFD) == -1)
        #expect(Errno.current == .badFileDescriptor)
    }

    @Test func closeIsExplicitAndIdempotent() throws {
        let number = try highDescriptor()
        let owned = OwnedDescriptor(adopting: number)
        try owned.close()
        #expect(!owned.isOpen)
        #expect(owned.rawValue == -1)
        #expect(fcntl(number, F_GETFD) == -1)
        try owned.close()  // a second close does nothing (and closes no one else's descriptor)
    }

    @Test func closeReportsTheKernelsError() throws {
        let number = try highDescriptor()
        let owned = OwnedDescriptor(adopting: number)
        _ = Glibc.close(number)  // closed behind the owner's back
        #expect(throws: SystemCallError(systemCall: "close", errno: .badFileDescriptor)) { try owned.close() }
    }

    @Test func readToEndStopsAtTheLimit() throws {
        let owned = try OwnedDescriptor.open("/dev/zero", O_RDONLY)
        #expect(try owned.readToEnd(limit: 100_000).count == 100_000)
        let missing = #expect(throws: SystemCallError.self) { try OwnedDescriptor.open("/nonexistent/cartridge", O_RDONLY) }
        #expect(missing?.code == .noSuchFileOrDirectory)
    }
}
