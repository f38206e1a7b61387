/// EMBED (0x06), host to device: sentences to embed as one batch. Reply: EMBEDDINGS.
public struct EmbedRequest: WireMessage {
    public static let frameType = FrameType.embed
    public var sentences: [String]
    public init(sentences: [String]) { self.sentences = sentences }
    public init(decoding reader: inout WireReader) throws(WireError) { sentences = try reader.readStringList("sentences") }
    public func encode(into writer: inout WireWriter) { writer.write(sentences) }
}
