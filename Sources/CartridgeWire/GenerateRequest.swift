/// GENERATE (0x05), host to device: starts a stream of TOKEN frames ended by DONE.
public struct GenerateRequest: WireMessage {
    public static let frameType = FrameType.generate
    /// Tokens to generate at most (>= 1).
    public var maximumTokens: UInt32
    /// 0 selects greedy decoding.
    public var temperature: Float
    /// Nucleus sampling mass in (0, 1]; 0 or 1 disables it.
    public var topP: Float
    /// Sample among the k most likely tokens; 0 disables it.
    public var topK: UInt32
    /// Seed of the sampler's random numbers; the same request and seed give the same tokens.
    public var seed: UInt64
    /// 0: a fresh context. Otherwise the id of a session whose KV cache is kept on the device, so
    /// a prompt that extends the session's history only processes the new tokens.
    public var session: UInt32
    public var prompt: Prompt
    /// Generation stops when the output ends with one of these (the stop text is not sent).
    public var stopSequences: [String]
    /// Log-probabilities of the k most likely tokens with each TOKEN (0 = none, at most 20).
    /// Optional trailing field: omitted on the wire when it and `echo` are zero.
    public var topLogprobs: UInt8
    /// Send one PROMPT_TOKEN per prompt position before the first TOKEN (OpenAI's echo), with its
    /// log-probabilities when `topLogprobs` > 0. The whole prompt is run again (no cache reuse).
    public var echo: Bool

    public init(
        prompt: Prompt, maximumTokens: UInt32 = 256, temperature: Float = 0, topP: Float = 0, topK: UInt32 = 0,
        seed: UInt64 = 0, session: UInt32 = 0, stopSequences: [String] = [], topLogprobs: UInt8 = 0, echo: Bool = false
    ) {
        self.topLogprobs = topLogprobs
        self.echo = echo
        self.prompt = prompt
        self.maximumTokens = maximumTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
        self.session = session
        self.stopSequences = stopSequences
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        maximumTokens = try reader.readUInt32("maximum_tokens")
        temperature = try reader.readFloat("temperature")
        topP = try reader.readFloat("top_p")
        topK = try reader.readUInt32("top_k")
        seed = try reader.readUInt64("seed")
        session = try reader.readUInt32("session")
        let kind = try reader.readUInt8("prompt_kind")
        switch kind {
        case 0: prompt = .text(try reader.readString("prompt_text"))
        case 1: prompt = .tokens(try reader.readUInt32List("prompt_tokens"))
        default: throw WireError(.invalidValue, "prompt_kind: \(kind) is neither 0 (text) nor 1 (tokens)")
        }
        stopSequences = try reader.readStringList("stop_sequences")
        (topLogprobs, echo) = try Self.readLogprobOptions(&reader)
        try Self.checkSamplingRanges(temperature: temperature, topP: topP)
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(maximumTokens)
        writer.write(temperature)
        writer.write(topP)
        writer.write(topK)
        writer.write(seed)
        writer.write(session)
        switch prompt {
        case .text(let text):
            writer.write(UInt8(0))
            writer.write(text)
        case .tokens(let tokens):
            writer.write(UInt8(1))
            writer.write(tokens)
        }
        writer.write(stopSequences)
        Self.writeLogprobOptions(topLogprobs: topLogprobs, echo: echo, into: &writer)
    }

    /// The range rules GENERATE and CHAT share: a value outside them is `outOfRange` (the device
    /// answers INVALID_ARGUMENT, not MALFORMED_PAYLOAD).
    static func checkSamplingRanges(temperature: Float, topP: Float) throws(WireError) {
        guard temperature.isFinite, temperature >= 0 else {
            throw WireError(.outOfRange, "temperature: \(temperature) is not a finite value >= 0")
        }
        guard topP.isFinite, topP >= 0, topP <= 1 else {
            throw WireError(.outOfRange, "top_p: \(topP) is not in [0, 1]")
        }
    }

    /// The optional trailing `u8 top_logprobs`, `u8 options` (bit 0 echo) of GENERATE and CHAT.
    static func readLogprobOptions(_ reader: inout WireReader) throws(WireError) -> (UInt8, Bool) {
        guard reader.remaining > 0 else { return (0, false) }
        let top = try reader.readUInt8("top_logprobs")
        let options = reader.remaining > 0 ? try reader.readUInt8("options") : 0
        return (top, options & 1 != 0)
    }

    static func writeLogprobOptions(topLogprobs: UInt8, echo: Bool, into writer: inout WireWriter) {
        guard topLogprobs != 0 || echo else { return }
        writer.write(topLogprobs)
        writer.write(UInt8(echo ? 1 : 0))
    }
}
