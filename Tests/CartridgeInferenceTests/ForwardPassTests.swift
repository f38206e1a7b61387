import CartridgeInference
import Testing

/// Logits against the float64 reference in `SmallModel` (small shapes, so debug builds stay fast).
@Suite("Forward pass vs float64 reference")
struct ForwardPassTests {
    /// max |engine - reference| over the logits, relative to max |reference|.
    static func relativeError(_ engine: [Float], _ reference: [Double]) -> Double {
        let scale = max(1e-30, reference.map(abs).max() ?? 0)
        return zip(engine, reference).map { abs(Double($0) - $1) }.max()! / scale
    }

    static let configs: [LlamaConfig] = [
        // Grouped-query attention, a separate classifier, odd widths (tails of the SIMD loops).
        LlamaConfig(dim: 48, hiddenDim: 100, layers: 2, heads: 6, kvHeads: 2, vocab: 97, seqLen: 32, sharedClassifier: false),
        // Multi-head attention, tied classifier, widths that fill whole SIMD registers.
        LlamaConfig(dim: 64, hiddenDim: 128, layers: 3, heads: 4, kvHeads: 4, vocab: 300, seqLen: 64),
    ]

    @Test("fp32 logits within 1e-4 relative", arguments: configs, [1, 2])
    func float32(_ config: LlamaConfig, workers: Int) throws {
        let small = try SmallModel(config: config, seed: 7)
        let model = try LlamaModel(weights: try small.weights(), tokenizer: nil, maximumWorkers: workers)
        let session = model.makeSession()
        let prompt: [Int32] = [1, 5, 17, 3, 42, 8, 60, 2, 9]
        for length in [1, 4, prompt.count] {
            let tokens = Array(prompt.prefix(length))
            let error = Self.relativeError(try session.logits(forPrompt: tokens), small.referenceLogits(tokens))
            #expect(error < 1e-4, "prompt length \(length): relative error \(error)")
        }
    }

    @Test("Q8_0 logits match runq.c's arithmetic; group sizes that do not divide the hidden size per row",
          arguments: [(32, 1), (32, 2), (16, 2)])
    func q8(_ preferredGroupSize: Int, _ workers: Int) throws {
        // hidden 80: the preferred 32 does not divide it, so the quantizer picks 16.
        let config = LlamaConfig(dim: 64, hiddenDim: 80, layers: 2, heads: 4, kvHeads: 2, vocab: 120, seqLen: 32, sharedClassifier: false)
        let small = try SmallModel(config: config, seed: 11, preferredGroupSize: preferredGroupSize)
        #expect(small.quantized["layers.0.w2"]?.groupSize == 16)
        let model = try LlamaModel(weights: try small.weights(), tokenizer: nil, maximumWorkers: workers)
        let tokens: [Int32] = [1, 9, 33, 7, 100, 4]
        let logits = try model.makeSession().logits(forPrompt: tokens)
        // Same arithmetic as the reference, except fp32 vs fp64 accumulation of the group sums:
        // a tiny activation difference can flip one int8 rounding, hence 1e-3 rather than 1e-4.
        let exact = Self.relativeError(logits, small.referenceLogits(tokens, quantizedActivations: true))
        #expect(exact < 1e-3, "relative error \(exact)")
        // And int8 is a fair approximation of the fp32 model.
        let approximate = Self.relativeError(logits, small.referenceLogits(tokens))
        #expect(approximate < 5e-2, "relative error vs fp32 weights \(approximate)")
    }

    @Test("Q8_0 quantizer: scales, rounding, zero groups, and group sizes that do not divide the row")
    func quantizer() throws {
        let values: [Float] = [0, 0, 0, 0, 1, -0.5, 0.25, -1, 127, 63.5, -31.75, 0.5]
        let (quants, scales) = try values.withUnsafeBufferPointer { try Q8Quantizer.quantize($0, rowLength: 4, groupSize: 4) }
        #expect(scales == [0, 1.0 / 127, 1])
        #expect(quants == [0, 0, 0, 0, 127, -64, 32, -127, 127, 64, -32, 1])
        #expect(throws: InferenceError.self) {
            try values.withUnsafeBufferPointer { try Q8Quantizer.quantize($0, rowLength: 6, groupSize: 4) }
        }
        #expect(Q8Quantizer.groupSize(preferred: 64, rowLengths: [512, 1376]) == 32)
        #expect(Q8Quantizer.groupSize(preferred: 64, rowLengths: [768, 2048]) == 64)
        #expect(Q8Quantizer.groupSize(preferred: 32, rowLengths: [64, 172]) == 4)
    }
}
