/// CANCEL (0x07), host to device. Its header's request id is the id of the request to stop.
/// There is no reply: the cancelled stream ends with DONE (stop reason `cancelled`); a CANCEL
/// for an id not in flight is ignored.
public struct CancelRequest: WireMessage {
    public static let frameType = FrameType.cancel
    public init() {}
    public init(decoding reader: inout WireReader) throws(WireError) {}
    public func encode(into writer: inout WireWriter) {}
}
