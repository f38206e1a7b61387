/// POWER (0x08), host to device: asks for the power status. With the `subscribe` flag the request
/// stays open and every change sends another POWER_STATUS with the same request id, until CANCEL.
public struct PowerRequest: WireMessage {
    public static let frameType = FrameType.power
    public init() {}
    public init(decoding reader: inout WireReader) throws(WireError) {}
    public func encode(into writer: inout WireWriter) {}
}
