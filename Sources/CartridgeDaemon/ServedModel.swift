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

/// One generation context with its KV cache and token history. Used by one request at a time:
/// `prepare` on the daemon's inference thread (tokenization is CPU work), then `start`, `next`
/// (awaiting the model's scheduler, which batches the steps of every running generation) and
/// always `end`.
public protocol GenerationContext: AnyObject, Sendable {
    /// Checks and tokenizes a request; prompt tokens that extend this context's history will
    /// reuse its cache (except with echo, which runs the whole prompt to report its log-probabilities).
    func prepare(_ spec: GenerationSpec) throws(ModelError)
    /// Runs the prepared prompt. `isCancelled` is polled while the prompt runs; once it is true
    /// the prompt stops early and this throws a `ModelError` (the caller checks its own stop reason).
    func start(isCancelled: @escaping @Sendable () -> Bool) async throws(ModelError) -> PromptAccounting
    /// The next step: a token, or the end of the generation.
    func next() async throws(ModelError) -> GenerationStep
    /// The request is over (finished, failed or cancelled); frees its place in the model's scheduler.
    func end()
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
