public import CartridgeTransport
public import CartridgeWire

/// Frames, one at a time, from a raw transport: for tools and tests that speak the protocol
/// frame by frame (conformance probes, benchmarks), not through `CartridgeConnection`.
public struct RawFrameReader {
    let transport: any CartridgeTransport
    var decoder: FrameDecoder

    public init(_ transport: any CartridgeTransport, maximumPayloadLength: UInt32 = 1 << 20) {
        self.transport = transport
        decoder = FrameDecoder(maximumPayloadLength: maximumPayloadLength)
    }

    /// The next frame. Throws `.protocolViolation` on bytes that are not a frame and
    /// `.disconnected` when the peer closes the connection.
    public mutating func next() async throws(CartridgeClientError) -> Frame {
        while true {
            if let event = decoder.next() {
                guard case .frame(let frame) = event else {
                    throw CartridgeClientError(.protocolViolation, "\(transport.peerDescription) sent invalid bytes: \(event)")
                }
                return frame
            }
            let bytes: [UInt8]
            do {
                bytes = try await transport.receive(maximumCount: 65_536)
            } catch {
                throw .transport(error)
            }
            if bytes.isEmpty { throw CartridgeClientError(.disconnected, "\(transport.peerDescription) closed the connection") }
            decoder.append(bytes)
        }
    }
}
