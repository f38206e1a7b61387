/// PROMPT_TOKEN (0x87), device to host: one position of the prompt, sent before the first TOKEN
/// when a GENERATE asked for echo. Same fields as TOKEN; `index` is the prompt position, and
/// `logprobs` (present when `top_logprobs` > 0) says how likely the model found that prompt token
/// after the ones before it (NaN at position 0).
public struct PromptToken: WireMessage {
    public static let frameType = FrameType.promptToken
    public var index: UInt32
    public var tokenID: UInt32
    public var text: String
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
