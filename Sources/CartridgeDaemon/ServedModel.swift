public import CartridgeWire

extension ServedModel {
    public func chatPrompt(_ messages: [ChatMessage]) throws(ModelError) -> [UInt32] {
        throw ModelError(.unsupported, "this cartridge's model (\(card.family)) has no chat template")
    }
}

/// The model a cartridge serves, as the daemon sees it. Adapters wrap the inference engines
/// (`LlamaServedModel`, `BertServedModel`).
///
/// Every method may block for a long time (it runs the model): the daemon calls them only on its
/// dedicated inference thread, one at a time, never on the cooperative pool.
public protocol ServedModel: AnyObject, Sendable {
    var card: ModelCard { get }
    /// Which of generate / embed / tokenize this model supports.
    var capabilities: Capabilities { get }

    func tokenize(_ text: String, options: TokenizeRequest.Options) throws(ModelError) -> [UInt32]
    func detokenize(_ tokens: [UInt32]) throws(ModelError) -> String
    /// The prompt tokens of a conversation: the model's chat template rendered with the
    /// generation prompt, then tokenized with its special tokens. Models without a chat template
    /// throw UNSUPPORTED.
    func chatPrompt(_ messages: [ChatMessage]) throws(ModelError) -> [UInt32]
    /// A fresh context (KV cache). Contexts may be kept between requests as sessions.
    func makeGenerationContext() throws(ModelError) -> any GenerationContext
    /// One L2-normalised vector per sentence.
    func embed(_ sentences: [String]) throws(ModelError) -> [[Float]]
    /// Inference threads to use from now on (power throttle); takes effect at the next matrix operation.
    func setWorkerCount(_ count: Int)
}

/// One generation context with its KV cache and token history. Used by one request at a time,
/// only on the inference thread.
public protocol GenerationContext: AnyObject, Sendable {
    /// Prepares a generation; prompt tokens that extend this context's history reuse its cache
    /// (except with echo, which runs the whole prompt to report its log-probabilities).
    func start(_ spec: GenerationSpec) throws(ModelError) -> PromptAccounting
    /// Runs the model for one token.
    func next() throws(ModelError) -> GenerationStep
}

public struct PromptAccounting: Hashable, Sendable {
    public var promptTokens: Int
    /// Prompt tokens whose KV entries were already in the context and were not processed again.
    public var cachedTokens: Int
    /// With echo: one PROMPT_TOKEN per prompt position, in order.
    public var echoed: [PromptToken]
    public init(promptTokens: Int, cachedTokens: Int, echoed: [PromptToken] = []) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.echoed = echoed
    }
}

public enum GenerationStep: Hashable, Sendable {
    case token(id: UInt32, text: String, logprobs: TokenLogprobs?)
    /// The generation ended; `trailingText` is output held back until now (see DONE).
    case finished(StopReason, trailingText: String)
}
