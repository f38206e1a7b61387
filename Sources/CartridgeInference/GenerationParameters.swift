/// Limits and stop conditions of one generation.
public struct GenerationParameters: Hashable, Sendable {
    public var sampling: SamplingParameters
    /// Tokens to generate at most (the prompt does not count).
    public var maxTokens: Int
    /// Stop when the model produces EOS (2) or BOS (1), as llama2.c stops on BOS.
    public var stopAtEndOfSequence: Bool
    /// Stop as soon as the generated text contains one of these; the stop text is not delivered.
    public var stopSequences: [String]

    public init(
        sampling: SamplingParameters = .greedy, maxTokens: Int = 256, stopAtEndOfSequence: Bool = true,
        stopSequences: [String] = []
    ) {
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopAtEndOfSequence = stopAtEndOfSequence
        self.stopSequences = stopSequences
    }
}
