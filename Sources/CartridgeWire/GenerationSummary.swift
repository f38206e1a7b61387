/// DONE (0x8E), device to host: ends a GENERATE stream, with statistics.
public struct GenerationSummary: WireMessage {
    public static let frameType = FrameType.done
    public var stopReason: StopReason
    /// Tokens in the prompt (including BOS).
    public var promptTokens: UInt32
    /// Of those, tokens whose KV cache was reused from the session and not processed again.
    public var cachedPromptTokens: UInt32
    public var generatedTokens: UInt32
    /// From the request's arrival to the first TOKEN frame.
    public var timeToFirstTokenMicroseconds: UInt32
    /// From the request's arrival to DONE.
    public var totalMicroseconds: UInt32
    /// Generated tokens per second after the first one (decode rate).
    public var tokensPerSecond: Float
    /// Output text released only at the end: text held back because it might have begun a stop
    /// sequence, or an incomplete character. Append it to the TOKEN texts.
    public var trailingText: String

    public init(
        stopReason: StopReason, promptTokens: UInt32, cachedPromptTokens: UInt32, generatedTokens: UInt32,
        timeToFirstTokenMicroseconds: UInt32, totalMicroseconds: UInt32, tokensPerSecond: Float, trailingText: String = ""
    ) {
        self.stopReason = stopReason
        self.promptTokens = promptTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.generatedTokens = generatedTokens
        self.timeToFirstTokenMicroseconds = timeToFirstTokenMicroseconds
        self.totalMicroseconds = totalMicroseconds
        self.tokensPerSecond = tokensPerSecond
        self.trailingText = trailingText
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        stopReason = StopReason(try reader.readUInt8("stop_reason"))
        promptTokens = try reader.readUInt32("prompt_tokens")
        cachedPromptTokens = try reader.readUInt32("cached_prompt_tokens")
        generatedTokens = try reader.readUInt32("generated_tokens")
        timeToFirstTokenMicroseconds = try reader.readUInt32("time_to_first_token_us")
        totalMicroseconds = try reader.readUInt32("total_us")
        tokensPerSecond = try reader.readFloat("tokens_per_second")
        trailingText = try reader.readString("trailing_text")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(stopReason.rawValue)
        writer.write(promptTokens)
        writer.write(cachedPromptTokens)
        writer.write(generatedTokens)
        writer.write(timeToFirstTokenMicroseconds)
        writer.write(totalMicroseconds)
        writer.write(tokensPerSecond)
        writer.write(trailingText)
    }
}
