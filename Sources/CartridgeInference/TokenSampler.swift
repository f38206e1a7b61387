/// Chooses tokens from logits exactly as llama2.c `sample` does (xorshift generator, softmax with
/// temperature, `sample_mult` / `sample_topp`), with optional top-k before top-p.
struct TokenSampler {
    var parameters: SamplingParameters
    private var state: UInt64
    private var candidates: [(index: Int32, probability: Float)] = []

    init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        state = parameters.seed
    }

    mutating func randomUInt32() -> UInt32 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return UInt32(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 32)
    }

    mutating func randomFloat() -> Float { Float(randomUInt32() >> 8) / 16_777_216 }

    /// The next token; `logits` (count n) is overwritten with probabilities unless greedy.
    mutating func sample(_ logits: UnsafeMutablePointer<Float>, count n: Int) -> Int32 {
        if parameters.temperature == 0 {
            var best = 0
            for i in 1..<max(1, n) where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        for i in 0..<n { logits[i] /= parameters.temperature }
        VectorMath.softmax(logits, count: n)
        let coin = randomFloat()
        var topP = parameters.topP
        if parameters.topK > 0, parameters.topK < n {
            candidates.removeAll(keepingCapacity: true)
            for i in 0..<n { candidates.append((Int32(i), logits[i])) }
            candidates.sort { $0.probability > $1.probability }
            candidates.removeSubrange(parameters.topK...)
            if topP <= 0 || topP >= 1 { topP = 1 }
            return pick(topP: topP, coin: coin)
        }
        if topP <= 0 || topP >= 1 {
            var cdf: Float = 0
            for i in 0..<n {
                cdf += logits[i]
                if coin < cdf { return Int32(i) }
            }
            return Int32(n - 1)
        }
        // sample_topp: drop tokens below (1 - topp) / (n - 1) before sorting.
        let cutoff = (1 - topP) / Float(n - 1)
        candidates.removeAll(keepingCapacity: true)
        for i in 0..<n where logits[i] >= cutoff { candidates.append((Int32(i), logits[i])) }
        candidates.sort { $0.probability > $1.probability }
        return pick(topP: topP, coin: coin)
    }

    /// Among sorted `candidates`, keep the prefix whose cumulative probability first exceeds
    /// `topP`, then draw from it with `coin`.
    private func pick(topP: Float, coin: Float) -> Int32 {
        guard !candidates.isEmpty else { return 0 }
        var cumulative: Float = 0
        var last = candidates.count - 1
        for (i, candidate) in candidates.enumerated() {
            cumulative += candidate.probability
            if cumulative > topP {
                last = i
                break
            }
        }
        let r = coin * cumulative
        var cdf: Float = 0
        for i in 0...last {
            cdf += candidates[i].probability
            if r < cdf { return candidates[i].index }
        }
        return candidates[last].index
    }
}
