/// TOKENS (0x83), the reply to TOKENIZE: list<u32> of token ids.
public struct TokenList: WireMessage {
    public static let frameType = FrameType.tokens
    public var tokens: [UInt32]
    public init(tokens: [UInt32]) { self.tokens = tokens }
    public init(decoding reader: inout WireReader) throws(WireError) { tokens = try reader.readUInt32List("tokens") }
    public func encode(into writer: inout WireWriter) { writer.write(tokens) }
}
