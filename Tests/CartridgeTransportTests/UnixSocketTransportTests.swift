import CartridgeTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("UnixSocketTransport", .timeLimit(.minutes(1)))
struct UnixSocketTransportTests {
    static func temporaryPath(_ name: String) -> String { "/tmp/cartridge-test-\(getpid())-\(name).sock" }

    @Test func connectSendReceiveAndClose() async throws {
        let path = Self.temporaryPath("basic")
        let listener = try UnixSocketListener(path: path)
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await UnixSocketTransport.connect(path: path)
        let server = try #require(try await accepted)
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        async let sending: Void = client.send(payload)
        var received: [UInt8] = []
        while received.count < payload.count { received += try await server.receive(maximumCount: 65536) }
        try await sending
        #expect(received == payload)
        client.close()
        #expect(try await server.receive(maximumCount: 16) == [])
        server.close()
    }

    /// Concurrent sends larger than the socket buffer: the direct (non-blocking) write of one send
    /// and the queued remainder of another must never interleave, and each sender's messages
    /// arrive whole and in its order.
    @Test func concurrentLargeSendsArriveWholeAndInOrder() async throws {
        let path = Self.temporaryPath("concurrent")
        let listener = try UnixSocketListener(path: path)
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await UnixSocketTransport.connect(path: path)
        let server = try #require(try await accepted)
        let senders = 6, messages = 12, length = 150_000
        async let sending: Void = withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<senders {
                group.addTask {
                    for message in 0..<messages {
                        // Every byte of a message says who sent it and which one it is.
                        try await client.send([UInt8](repeating: UInt8(sender * messages + message), count: length))
                    }
                }
            }
            try await group.waitForAll()
        }
        var received: [UInt8] = []
        while received.count < senders * messages * length { received += try await server.receive(maximumCount: 65536) }
        try await sending
        var next = [Int](repeating: 0, count: senders)
        for start in stride(from: 0, to: received.count, by: length) {
            let message = received[start..<(start + length)]
            let tag = Int(message.first!)
            #expect(message.allSatisfy { Int($0) == tag }, "a message at byte \(start) is interleaved with another")
            #expect(tag % messages == next[tag / messages], "sender \(tag / messages) out of order")
            next[tag / messages] += 1
        }
        #expect(next == [Int](repeating: messages, count: senders))
        client.close()
        server.close()
    }

    @Test func peerHangUpMakesSendFailWithDisconnected() async throws {
        let path = Self.temporaryPath("hangup")
        let listener = try UnixSocketListener(path: path)
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await UnixSocketTransport.connect(path: path)
        let server = try #require(try await accepted)
        client.close()
        var failure: TransportError?
        for _ in 0..<100 {
            do { try await server.send([UInt8](repeating: 0, count: 65536)) } catch {
                failure = error
                break
            }
        }
        #expect(failure?.code == .disconnected)
        server.close()
    }

    @Test func connectingToNothingIsNotFound() async {
        do {
            _ = try await UnixSocketTransport.connect(path: Self.temporaryPath("absent"))
            Issue.record("connect must fail")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test func aLiveListenerIsNotReplacedButAStaleSocketIs() throws {
        let path = Self.temporaryPath("live")
        let first = try UnixSocketListener(path: path)
        #expect(throws: TransportError.self) { try UnixSocketListener(path: path) }
        first.close()
        // Leave a stale socket file behind, as a crashed daemon would.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(stale)
        let second = try UnixSocketListener(path: path)
        second.close()
    }

    /// Issue 13, defect 3: `--socket PATH` must never delete what is not a socket.
    @Test func aPathThatIsNotASocketIsRefusedAndKept() throws {
        let path = Self.temporaryPath("regular")
        let file = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        #expect(file >= 0)
        _ = write(file, "keep me", 7)
        close(file)
        defer { unlink(path) }
        do {
            _ = try UnixSocketListener(path: path)
            Issue.record("a regular file must be refused")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("not a socket"))
        }
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_size == 7, "the file must still be there")

        let directory = Self.temporaryPath("directory")
        #expect(mkdir(directory, 0o700) == 0)
        defer { rmdir(directory) }
        #expect(throws: TransportError.self) { try UnixSocketListener(path: directory) }
    }

    /// Issue 13, defect 8: the socket's mode is set explicitly (0660 by default), not by the umask.
    @Test func theSocketModeIsSetRegardlessOfTheUmask() throws {
        // One test, not parameterized: the umask is process-wide and must be restored in order.
        for (mode, mask) in [(mode_t(0o660), mode_t(0o000)), (0o600, 0o077), (0o666, 0o000)] {
            let path = Self.temporaryPath("mode")
            let previous = umask(mask)
            defer { umask(previous) }
            let listener = try UnixSocketListener(path: path, mode: mode)
            defer { listener.close() }
            var status = stat()
            #expect(stat(path, &status) == 0)
            #expect(status.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK))
            #expect(status.st_mode & 0o777 == mode, "mode \(String(mode, radix: 8)) under umask \(String(mask, radix: 8))")
        }
    }

    @Test func theDefaultModeLetsOwnerAndGroupConnect() throws {
        #expect(UnixSocketListener.defaultMode == 0o660)
        let path = Self.temporaryPath("group")
        let listener = try UnixSocketListener(path: path, group: getgid())
        defer { listener.close() }
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o660)
        #expect(status.st_gid == getgid())
    }

    @Test func closingTheListenerEndsAccept() async throws {
        let listener = try UnixSocketListener(path: Self.temporaryPath("close"))
        async let accepted = listener.accept()
        try await Task.sleep(for: .milliseconds(50))
        listener.close()
        #expect(try await accepted == nil)
    }
}
