/// CHAT (0x0A), host to device: a conversation the device renders with its model's own chat
/// template (with the generation prompt) and answers like GENERATE: TOKEN*, then DONE.
/// Generation also stops at the model's end-of-turn tokens, which are not sent.
public struct ChatRequest: WireMessage {
    public static let frameType = FrameType.chat
    public var maximumTokens: UInt32
    public var temperature: Float
    public var topP: Float
    public var topK: UInt32
    public var seed: UInt64
    /// 0: a fresh context. Otherwise a session id: a conversation that extends the previous one
    /// reuses the KV cache of the shared prefix (DONE reports it in `cached_prompt_tokens`).
    public var session: UInt32
    /// At least one; roles `system`, `user`, `assistant`.
    public var messages: [ChatMessage]
    public var stopSequences: [String]
    /// As in GENERATE (0 = none, at most 20).
    public var topLogprobs: UInt8

    public init(
        messages: [ChatMessage], maximumTokens: UInt32 = 256, temperature: Float = 0, topP: Float = 0, topK: UInt32 = 0,
        seed: UInt64 = 0, session: UInt32 = 0, stopSequences: [String] = [], topLogprobs: UInt8 = 0
    ) {
        self.messages = messages
        self.maximumTokens = maximumTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
        self.session = session
        self.stopSequences = stopSequences
        self.topLogprobs = topLogprobs
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        maximumTokens = try reader.readUInt32("maximum_tokens")
        temperature = try reader.readFloat("temperature")
        topP = try reader.readFloat("top_p")
        topK = try reader.readUInt32("top_k")
        seed = try reader.readUInt64("seed")
        session = try reader.readUInt32("session")
        let count = Int(try reader.readUInt32("messages"))
        guard count <= reader.remaining / 8 else {
            throw WireError(.tooLarge, "messages: count \(count) exceeds the \(reader.remaining) bytes left")
        }
        var messages: [ChatMessage] = []
        messages.reserveCapacity(count)
        for _ in 0..<count {
            messages.append(ChatMessage(role: try reader.readString("messages.role"), content: try reader.readString("messages.content")))
        }
        self.messages = messages
        stopSequences = try reader.readStringList("stop_sequences")
        topLogprobs = try GenerateRequest.readLogprobOptions(&reader).0
        try GenerateRequest.checkSamplingRanges(temperature: temperature, topP: topP)
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(maximumTokens)
        writer.write(temperature)
        writer.write(topP)
        writer.write(topK)
        writer.write(seed)
        writer.write(session)
        writer.write(UInt32(messages.count))
        for message in messages {
            writer.write(message.role)
            writer.write(message.content)
        }
        writer.write(stopSequences)
        GenerateRequest.writeLogprobOptions(topLogprobs: topLogprobs, echo: false, into: &writer)
    }
}
