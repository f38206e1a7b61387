/// Requests without fields: INFO (0x02), CANCEL (0x07, the header's request id names the
/// request to cancel) and POWER (0x08, optionally with the `subscribe` flag).
public struct InfoRequest: WireMessage {
    public static let frameType = FrameType.info
    public init() {}
    public init(decoding reader: inout WireReader) throws(WireError) {}
    public func encode(into writer: inout WireWriter) {}
}
