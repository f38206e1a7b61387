/// What `cartridge-bench llm speed --json` prints (one object), and what `llm compare` reads back
/// from its cartridge children. Rates are tokens per second; an empty sample list means the test
/// was not run (-p 0 or -n 0).
struct LLMSpeedReport: Codable, Hashable {
    var model: String
    var threads: Int
    var promptTokens: Int
    var generatedTokens: Int
    /// Prompt processing: one rate per repeat (`logits(forPrompt:)` of the whole prompt).
    var promptSamples: [Double]
    /// Token generation: one rate per repeat (N greedy tokens from one start token).
    var generationSamples: [Double]
    /// VmHWM at the end of the run, KiB.
    var peakResidentKilobytes: Int
    /// Weight bytes the decoder reads per generated token (all matrices and the classifier).
    var weightBytesPerToken: Int
    /// Model load time (map + build), milliseconds.
    var loadMilliseconds: Double

    var promptMedian: Double? { Self.median(promptSamples) }
    var generationMedian: Double? { Self.median(generationSamples) }

    /// The median (mean of the two middle values for an even count); nil for no values.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
