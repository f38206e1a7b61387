/// DETOKENIZE (0x04), host to device: token ids to text. Reply: TEXT.
public struct DetokenizeRequest: WireMessage {
    public static let frameType = FrameType.detokenize
    public var tokens: [UInt32]
    public init(tokens: [UInt32]) { self.tokens = tokens }
    public init(decoding reader: inout WireReader) throws(WireError) { tokens = try reader.readUInt32List("tokens") }
    public func encode(into writer: inout WireWriter) { writer.write(tokens) }
}
