/// TOKEN (0x85), device to host: one generated token of a GENERATE stream.
public struct GeneratedToken: WireMessage {
    public static let frameType = FrameType.token
    /// Position in the output, from 0.
    public var index: UInt32
    public var tokenID: UInt32
    /// The token's text (may be empty, e.g. for a byte token that completes a character later).
    public var text: String

    public init(index: UInt32, tokenID: UInt32, text: String) {
        self.index = index
        self.tokenID = tokenID
        self.text = text
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        index = try reader.readUInt32("index")
        tokenID = try reader.readUInt32("token_id")
        text = try reader.readString("text")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(index)
        writer.write(tokenID)
        writer.write(text)
    }
}
