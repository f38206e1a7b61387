/// A message: the typed payload of one frame type.
///
/// Decoding ignores bytes after the last known field, so later protocol revisions can append
/// fields without breaking older peers (PROTOCOL.md "Extensibility").
public protocol WireMessage: Sendable, Hashable {
    static var frameType: FrameType { get }
    init(decoding reader: inout WireReader) throws(WireError)
    func encode(into writer: inout WireWriter)
}

extension WireMessage {
    public init(payload: [UInt8]) throws(WireError) {
        var reader = WireReader(payload)
        try self.init(decoding: &reader)
    }

    public func payload() -> [UInt8] {
        var writer = WireWriter()
        encode(into: &writer)
        return writer.bytes
    }

    public func frame(requestID: UInt32, flags: FrameFlags = []) -> Frame {
        Frame(type: Self.frameType, flags: flags, requestID: requestID, payload: payload())
    }
}
