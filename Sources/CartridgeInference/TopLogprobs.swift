#if canImport(Glibc)
import Glibc
#endif

/// How likely the model found one token, and the k most likely alternatives at that step:
/// natural-log softmax of the logits (before temperature, top-k and top-p), as OpenAI's
/// `logprobs` report them.
public struct TopLogprobs: Hashable, Sendable {
    /// The log-probability of the token that was chosen (generated or given in the prompt).
    public var logprob: Float
    /// The `k` most likely tokens, most likely first (ties: lower id first).
    public var top: [Alternative]

    public struct Alternative: Hashable, Sendable {
        public var id: Int32
        public var logprob: Float
        public init(id: Int32, logprob: Float) {
            self.id = id
            self.logprob = logprob
        }
    }

    /// At most this many alternatives.
    public static let maximumCount = 20

    public init(logprob: Float, top: [Alternative]) {
        self.logprob = logprob
        self.top = top
    }

    /// The distribution of `logits[0..<count]` seen from `chosen`, with the `k` best alternatives.
    /// The normaliser is accumulated in Double.
    static func from(logits: UnsafePointer<Float>, count: Int, chosen: Int32, k: Int) -> TopLogprobs {
        var maximum = -Float.infinity
        for i in 0..<count where logits[i] > maximum { maximum = logits[i] }
        var sum: Double = 0
        for i in 0..<count { sum += Double(expf(logits[i] - maximum)) }
        let normaliser = maximum + Float(log(sum))
        let k = min(max(k, 0), maximumCount, count)
        var best: [Alternative] = []
        best.reserveCapacity(k + 1)
        if k > 0 {
            for i in 0..<count {
                let value = logits[i]
                if best.count == k, value <= best[k - 1].logprob { continue }
                var position = best.count
                while position > 0, best[position - 1].logprob < value { position -= 1 }
                best.insert(Alternative(id: Int32(i), logprob: value), at: position)
                if best.count > k { best.removeLast() }
            }
        }
        for index in best.indices { best[index].logprob -= normaliser }
        let own = chosen >= 0 && Int(chosen) < count ? logits[Int(chosen)] - normaliser : -.infinity
        return TopLogprobs(logprob: own, top: best)
    }
}
