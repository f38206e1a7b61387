/// How the next token is chosen from the logits.
public struct SamplingParameters: Hashable, Sendable {
    /// 0 = greedy (argmax, lowest id on ties); otherwise logits are divided by it before softmax.
    public var temperature: Float
    /// Nucleus sampling: keep the most likely tokens up to this cumulative probability. Values
    /// outside (0, 1) disable it (llama2.c `topp`).
    public var topP: Float
    /// Keep only the `topK` most likely tokens (0 disables). Applied before top-p.
    public var topK: Int
    /// Seed of llama2.c's xorshift generator: same seed, same model, same prompt, same tokens.
    public var seed: UInt64

    public init(temperature: Float = 0, topP: Float = 0.9, topK: Int = 0, seed: UInt64 = 42) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)
}
