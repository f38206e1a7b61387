import CartridgeTransport
#if canImport(Glibc)
import Glibc
#endif

/// The self-test's frames: a 4-byte little-endian payload length, then the payload (a pattern
/// that depends on the frame number, so misordered or stale bytes are caught). The device echoes
/// raw bytes, so the host reads back exactly what it sent.
enum EchoFrames {
    /// Payload sizes: 0, small, and sizes whose *frame* (payload + 4) is an exact multiple of the
    /// full/high/super-speed packet sizes 64/512/1024, up to 2 MiB.
    static let payloadSizes: [Int] = [
        0, 1, 59, 60, 61, 123, 124, 508, 509, 1020, 1021, 4092, 16380, 16384, 65532, 65536, 65540,
        262_140, 1_048_572, 1_048_576, 2_097_148, 2_097_152,
    ]

    static func frame(payloadSize: Int, number: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payloadSize + 4)
        withUnsafeBytes(of: UInt32(payloadSize).littleEndian) { bytes.append(contentsOf: $0) }
        var value = UInt32(truncatingIfNeeded: number &* 2_654_435_761)
        for _ in 0..<payloadSize {
            value = value &* 1_103_515_245 &+ 12345
            bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        }
        return bytes
    }

    static func receive(exactly count: Int, from transport: any CartridgeTransport) async throws(TransportError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let chunk = try await transport.receive(maximumCount: count - bytes.count)
            if chunk.isEmpty { throw TransportError(.disconnected, "end of stream after \(bytes.count) of \(count) bytes") }
            if chunk.count == count { return chunk }  // all of it at once: no copy
            if bytes.isEmpty { bytes.reserveCapacity(count) }
            bytes += chunk
        }
        return bytes
    }

    /// Sends one frame and checks the echo. Returns false (after printing why) on a mismatch.
    static func roundTrip(_ transport: any CartridgeTransport, payloadSize: Int, number: Int) async throws(TransportError) -> Bool {
        try await roundTrip(transport, frame: frame(payloadSize: payloadSize, number: number))
    }

    /// Sends `frame` and checks that the same bytes come back. The send and the receive are not
    /// run concurrently (no child task per round trip, which would be timed too): the USB
    /// transports' `send` returns as soon as the bytes are queued (below the transport's high-water
    /// mark, which one frame never waits for), so the receive starts while the bytes travel.
    static func roundTrip(_ transport: any CartridgeTransport, frame: [UInt8]) async throws(TransportError) -> Bool {
        let payloadSize = frame.count - 4
        try await transport.send(frame)
        let echoed = try await receive(exactly: frame.count, from: transport)
        let same = echoed.count == frame.count
            && echoed.withUnsafeBytes { left in frame.withUnsafeBytes { right in memcmp(left.baseAddress!, right.baseAddress!, frame.count) == 0 } }
        if !same {
            let firstDifference = zip(echoed, frame).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
            say("MISMATCH payload \(payloadSize): first differing byte at \(firstDifference)")
            return false
        }
        return true
    }
}
