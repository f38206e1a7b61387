/// Limits and stop conditions of one generation.
public struct GenerationParameters: Hashable, Sendable {
    public var sampling: SamplingParameters
    /// Tokens to generate at most (the prompt does not count).
    public var maxTokens: Int
    /// Stop when the model produces an end-of-generation token: the tokenizer's
    /// `endOfGenerationIDs` (EOS, end of turn such as `<|im_end|>`); EOS (2) or BOS (1) for
    /// llama2.c models, as llama2.c stops on BOS.
    public var stopAtEndOfSequence: Bool
    /// Stop as soon as the generated text contains one of these; the stop text is not delivered.
    public var stopSequences: [String]
    /// Log-probabilities of this many most likely tokens with each generated token (0 = none,
    /// at most `TopLogprobs.maximumCount`); read them from `LlamaSession.lastLogprobs`.
    public var topLogprobs: Int
    /// Compute the log-probability of every prompt token (`LlamaSession.promptLogprobs`); the
    /// whole prompt is run again, without reusing the cache.
    public var echo: Bool

    public init(
        sampling: SamplingParameters = .greedy, maxTokens: Int = 256, stopAtEndOfSequence: Bool = true,
        stopSequences: [String] = [], topLogprobs: Int = 0, echo: Bool = false
    ) {
        self.topLogprobs = topLogprobs
        self.echo = echo
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopAtEndOfSequence = stopAtEndOfSequence
        self.stopSequences = stopSequences
    }
}
