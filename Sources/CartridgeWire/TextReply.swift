/// TEXT (0x84), the reply to DETOKENIZE.
public struct TextReply: WireMessage {
    public static let frameType = FrameType.text
    public var text: String
    public init(text: String) { self.text = text }
    public init(decoding reader: inout WireReader) throws(WireError) { text = try reader.readString("text") }
    public func encode(into writer: inout WireWriter) { writer.write(text) }
}
