/// PING (0x09) and PONG (0x89): the whole payload is opaque bytes, echoed unchanged.
public struct PingPayload: WireMessage {
    public static let frameType = FrameType.ping
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(decoding reader: inout WireReader) throws(WireError) { bytes = try reader.readRaw(reader.remaining, "data") }
    public func encode(into writer: inout WireWriter) { writer.write(raw: bytes) }
}
