/// TOKEN (0x85), device to host: one generated token of a GENERATE stream.
public struct GeneratedToken: WireMessage {
    public static let frameType = FrameType.token
    /// Position in the output, from 0.
    public var index: UInt32
    public var tokenID: UInt32
    /// The token's text (may be empty, e.g. for a byte token that completes a character later).
    public var text: String
    /// Present when the request asked for `top_logprobs` > 0.
    public var logprobs: TokenLogprobs?

    public init(index: UInt32, tokenID: UInt32, text: String, logprobs: TokenLogprobs? = nil) {
        self.index = index
        self.tokenID = tokenID
        self.text = text
        self.logprobs = logprobs
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        index = try reader.readUInt32("index")
        tokenID = try reader.readUInt32("token_id")
        text = try reader.readString("text")
        logprobs = try TokenLogprobs.decodeIfPresent(&reader)
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(index)
        writer.write(tokenID)
        writer.write(text)
        logprobs?.encode(into: &writer)
    }
}
