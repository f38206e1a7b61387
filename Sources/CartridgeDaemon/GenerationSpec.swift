public import CartridgeWire

/// What one generation asks for, from a GENERATE or from a CHAT after its template is rendered:
/// the prompt, the sampler, the limits and the log-probabilities wanted.
public struct GenerationSpec: Hashable, Sendable {
    public var prompt: Prompt
    public var maximumTokens: UInt32
    public var temperature: Float
    public var topP: Float
    public var topK: UInt32
    public var seed: UInt64
    public var session: UInt32
    public var stopSequences: [String]
    /// 0...20 (checked by the daemon before the model sees it).
    public var topLogprobs: Int
    public var echo: Bool

    public init(
        prompt: Prompt, maximumTokens: UInt32, temperature: Float = 0, topP: Float = 0, topK: UInt32 = 0, seed: UInt64 = 0,
        session: UInt32 = 0, stopSequences: [String] = [], topLogprobs: Int = 0, echo: Bool = false
    ) {
        self.prompt = prompt
        self.maximumTokens = maximumTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
        self.session = session
        self.stopSequences = stopSequences
        self.topLogprobs = topLogprobs
        self.echo = echo
    }

    public init(_ request: GenerateRequest) {
        self.init(
            prompt: request.prompt, maximumTokens: request.maximumTokens, temperature: request.temperature, topP: request.topP,
            topK: request.topK, seed: request.seed, session: request.session, stopSequences: request.stopSequences,
            topLogprobs: Int(request.topLogprobs), echo: request.echo)
    }

    /// A CHAT whose conversation the model rendered to `promptTokens`.
    public init(_ request: ChatRequest, promptTokens: [UInt32]) {
        self.init(
            prompt: .tokens(promptTokens), maximumTokens: request.maximumTokens, temperature: request.temperature, topP: request.topP,
            topK: request.topK, seed: request.seed, session: request.session, stopSequences: request.stopSequences,
            topLogprobs: Int(request.topLogprobs))
    }
}
