import CartridgeSystem
import CartridgeTransport
import Testing
@testable import CartridgeGadget
#if canImport(Glibc)
import Glibc
#endif

/// `FunctionFSTransport` with a stream socket standing in for both endpoints: its reader thread's
/// blocking reads and its senders' AIO writes work on a socket as on FunctionFS, so the byte paths
/// (requests of 64 KiB at the right offsets, the zero-length request behind a transfer that ends on
/// a packet boundary, frames of several sends in order, ending and closing) are tested here. USB
/// packets, ZLPs on the wire and disconnects are FunctionFS's and exercised in the VM
/// (scripts/vm/run-usb-tests.sh).
@Suite struct FunctionFSTransportTests {
    /// A connected pair: the transport's end (made non-blocking by the transport) and the test's.
    private static func socketPair() throws -> (device: Int32, host: Int32) {
        var descriptors: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0)
        var size: Int32 = 4 * 1024 * 1024  // room for every test's bytes: the host side reads after sending
        for descriptor in descriptors {
            setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        return (descriptors[0], descriptors[1])
    }

    /// Reads exactly `count` bytes from the test's end (blocking, bounded by the socket's timeout).
    /// Runs `body` with a transport over one end of a fresh socket pair, standing in for both
    /// endpoints, and the other end as the host's; closes the transport (again, if the body did)
    /// and both ends afterwards.
    private static func withTransport(_ body: (FunctionFSTransport, _ host: Int32) async throws -> Void) async throws {
        let (device, host) = try socketPair()
        defer { close(device); close(host) }
        let transport = FunctionFSTransport(outDescriptor: device, inDescriptor: device, packetSize: 512, peerDescription: "test")
        defer { transport.close() }
        try await body(transport, host)
    }

    private static func read(_ descriptor: Int32, count: Int) -> [UInt8] {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + offset, count - offset) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            offset += got
        }
        return Array(bytes[0..<offset])
    }

    /// Where two byte arrays first differ (nil: equal). Compared this way rather than with
    /// `#expect(a == b)`, whose failure message would diff hundreds of kilobytes element by element.
    private static func firstDifference(_ left: [UInt8], _ right: [UInt8]) -> Int? {
        if left == right { return nil }
        return zip(left, right).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(left.count, right.count)
    }

    /// Bytes that never repeat with a period of a request (64 KiB): a misplaced request shows.
    private static func pattern(_ count: Int, seed: UInt32) -> [UInt8] {
        var value = seed &* 2_654_435_761
        return (0..<count).map { _ in
            value = value &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: value >> 16)
        }
    }

    @Test func sendsArriveInOrderAcrossRequestsAndFrames() async throws {
        try await Self.withTransport { transport, host in
            // Frames of several sizes: small, a packet multiple (zero-length request behind it when it
            // empties the queue), several 64 KiB requests with a short tail, several requests exactly.
            let frames = [Self.pattern(16, seed: 1), Self.pattern(1024, seed: 2), Self.pattern(200_000, seed: 3),
                          Self.pattern(3, seed: 4), Self.pattern(4 * 65536, seed: 5)]
            for frame in frames { try await transport.send(frame) }
            let expected = frames.flatMap { $0 }
            let received = Self.read(host, count: expected.count)
            #expect(received.count == expected.count)
            #expect(Self.firstDifference(received, expected) == nil)
        }
    }

    @Test func receiveHandsOutWhatTheHostWroteInOrder() async throws {
        try await Self.withTransport { transport, host in
            let sent = Self.pattern(150_000, seed: 7)
            #expect(sent.withUnsafeBytes { write(host, $0.baseAddress!, $0.count) } == sent.count)
            var received: [UInt8] = []
            while received.count < sent.count {
                received += try await transport.receive(maximumCount: 40_000)
            }
            #expect(Self.firstDifference(received, sent) == nil)
        }
    }

    @Test func endingTheSessionFailsAWaitingReceiveAndLaterSendsAsDisconnected() async throws {
        try await Self.withTransport { transport, host in
            let waiting = Task { () -> TransportError.Code? in
                do {
                    _ = try await transport.receive(maximumCount: 100)
                    return nil
                } catch let error as TransportError {
                    return error.code
                } catch {
                    return nil
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            transport.end()
            #expect(await waiting.value == TransportError.Code.disconnected)
            await #expect(throws: TransportError.self) { try await transport.send([1, 2, 3]) }
            do throws(TransportError) {
                try await transport.send([1, 2, 3])
            } catch {
                #expect(error.code == .disconnected)
            }
        }
    }

    @Test func closeLetsQueuedBytesLeaveFirst() async throws {
        try await Self.withTransport { transport, host in
            let frame = Self.pattern(700_000, seed: 9)
            try await transport.send(frame)
            transport.close()
            #expect(Self.firstDifference(Self.read(host, count: frame.count), frame) == nil)
            await #expect(throws: TransportError.self) { try await transport.send([1]) }
        }
    }
}
