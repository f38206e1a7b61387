#if canImport(Glibc)
import Glibc
#endif

/// A BERT encoder with sentence-transformers pooling: token + position + token-type embeddings,
/// embedding LayerNorm, post-LayerNorm blocks (multi-head self-attention, exact-erf GELU FFN),
/// mean pooling over each sentence's tokens and L2 normalisation.
///
/// A batch is packed without padding: the sentences' tokens are stacked into one `[tokens, hidden]`
/// matrix, every `Linear` runs once over all of them (each weight row is reused by every token of
/// the batch), and attention runs per sentence over its own tokens only, which is exactly what
/// padding plus an attention mask computes for the real tokens, without the padded work.
///
/// Built from named fp32 tensor views (safetensors names, see `tensorNames(for:)`), so a mapped
/// cartridge image or a mapped model.safetensors can supply them without copies.
public struct BertEncoder: @unchecked Sendable {
    // @unchecked: the pointers refer to immutable weight memory owned by `owners` (or by the
    // caller, see init); nothing writes through them, so sharing across threads is safe.
    public let config: BertConfig
    private let wordEmbeddings: UnsafePointer<Float>
    private let positionEmbeddings: UnsafePointer<Float>
    private let tokenTypeEmbeddings: UnsafePointer<Float>
    private let embeddingNormWeight: UnsafePointer<Float>
    private let embeddingNormBias: UnsafePointer<Float>
    private let layers: [BertLayerWeights]
    /// Whoever owns the memory the views point into (mappings, converted buffers).
    private let owners: [any AnyObject & Sendable]

    /// The safetensors names of the tensors an encoder of `config` needs, with their shapes.
    public static func tensorNames(for config: BertConfig) -> [(name: String, shape: [Int])] {
        let h = config.hiddenSize, i = config.intermediateSize
        var names: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [config.vocabularySize, h]),
            ("embeddings.position_embeddings.weight", [config.maximumPositions, h]),
            ("embeddings.token_type_embeddings.weight", [config.tokenTypeCount, h]),
            ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h]),
        ]
        for layer in 0..<config.layerCount {
            let p = "encoder.layer.\(layer)."
            names += [
                (p + "attention.self.query.weight", [h, h]), (p + "attention.self.query.bias", [h]),
                (p + "attention.self.key.weight", [h, h]), (p + "attention.self.key.bias", [h]),
                (p + "attention.self.value.weight", [h, h]), (p + "attention.self.value.bias", [h]),
                (p + "attention.output.dense.weight", [h, h]), (p + "attention.output.dense.bias", [h]),
                (p + "attention.output.LayerNorm.weight", [h]), (p + "attention.output.LayerNorm.bias", [h]),
                (p + "intermediate.dense.weight", [i, h]), (p + "intermediate.dense.bias", [i]),
                (p + "output.dense.weight", [h, i]), (p + "output.dense.bias", [h]),
                (p + "output.LayerNorm.weight", [h]), (p + "output.LayerNorm.bias", [h]),
            ]
        }
        return names
    }

    /// `tensors` maps safetensors names (optionally prefixed `bert.`) to fp32 views with the shapes
    /// of `tensorNames(for:)`. `owners` are kept alive as long as the encoder (the mapping, any
    /// converted storage). Throws `.invalidTensor` naming the first missing or misshapen tensor.
    public init(tensors: [String: TensorView], config: BertConfig, owners: [any AnyObject & Sendable] = []) throws(InferenceError) {
        func pointer(_ name: String, _ shape: [Int]) throws(InferenceError) -> UnsafePointer<Float> {
            guard let view = tensors[name] ?? tensors["bert." + name] else {
                throw InferenceError(.invalidTensor, "BERT: tensor '\(name)' is missing")
            }
            guard view.shape == shape else {
                throw InferenceError(.invalidTensor, "BERT: tensor '\(name)' has shape \(view.shape), expected \(shape)")
            }
            guard case .float32(let values) = view.storage else {
                throw InferenceError(.invalidTensor, "BERT: tensor '\(name)' is \(view.elementTypeDescription), expected fp32")
            }
            return values
        }
        let h = config.hiddenSize, i = config.intermediateSize
        self.config = config
        self.owners = owners
        wordEmbeddings = try pointer("embeddings.word_embeddings.weight", [config.vocabularySize, h])
        positionEmbeddings = try pointer("embeddings.position_embeddings.weight", [config.maximumPositions, h])
        tokenTypeEmbeddings = try pointer("embeddings.token_type_embeddings.weight", [config.tokenTypeCount, h])
        embeddingNormWeight = try pointer("embeddings.LayerNorm.weight", [h])
        embeddingNormBias = try pointer("embeddings.LayerNorm.bias", [h])
        var layers: [BertLayerWeights] = []
        for layer in 0..<config.layerCount {
            let p = "encoder.layer.\(layer)."
            layers.append(
                BertLayerWeights(
                    query: try pointer(p + "attention.self.query.weight", [h, h]),
                    queryBias: try pointer(p + "attention.self.query.bias", [h]),
                    key: try pointer(p + "attention.self.key.weight", [h, h]),
                    keyBias: try pointer(p + "attention.self.key.bias", [h]),
                    value: try pointer(p + "attention.self.value.weight", [h, h]),
                    valueBias: try pointer(p + "attention.self.value.bias", [h]),
                    attentionOutput: try pointer(p + "attention.output.dense.weight", [h, h]),
                    attentionOutputBias: try pointer(p + "attention.output.dense.bias", [h]),
                    attentionNormWeight: try pointer(p + "attention.output.LayerNorm.weight", [h]),
                    attentionNormBias: try pointer(p + "attention.output.LayerNorm.bias", [h]),
                    intermediate: try pointer(p + "intermediate.dense.weight", [i, h]),
                    intermediateBias: try pointer(p + "intermediate.dense.bias", [i]),
                    output: try pointer(p + "output.dense.weight", [h, i]),
                    outputBias: try pointer(p + "output.dense.bias", [h]),
                    outputNormWeight: try pointer(p + "output.LayerNorm.weight", [h]),
                    outputNormBias: try pointer(p + "output.LayerNorm.bias", [h])))
        }
        self.layers = layers
    }

    /// Same, from a list of named views (the form a cartridge image stores).
    public init(tensors: [NamedTensor], config: BertConfig, owners: [any AnyObject & Sendable] = []) throws(InferenceError) {
        var byName: [String: TensorView] = [:]
        for tensor in tensors { byName[tensor.name] = tensor.tensor }
        try self.init(tensors: byName, config: config, owners: owners)
    }

    /// One L2-normalised, mean-pooled vector of `hiddenSize` per token sequence (each already framed
    /// with [CLS]/[SEP], 1...maximumPositions long, ids below the vocabulary size). Row blocks of
    /// every matrix product and the (sentence, head) attention jobs run on `pool` when given.
    public func embed(_ sequences: [[Int32]], pool: WorkerPool? = nil) throws(InferenceError) -> [[Float]] {
        guard !sequences.isEmpty else { return [] }
        var offsets: [Int] = [0]
        for (index, sequence) in sequences.enumerated() {
            guard !sequence.isEmpty, sequence.count <= config.maximumPositions else {
                throw InferenceError(
                    .invalidArgument, "BERT: sequence \(index) has \(sequence.count) tokens, allowed 1...\(config.maximumPositions)")
            }
            for id in sequence where id < 0 || Int(id) >= config.vocabularySize {
                throw InferenceError(.invalidArgument, "BERT: token id \(id) in sequence \(index) is outside the vocabulary")
            }
            offsets.append(offsets[offsets.count - 1] + sequence.count)
        }
        let tokenCount = offsets[offsets.count - 1]
        let h = config.hiddenSize
        let scratch = EncoderScratch(tokens: tokenCount, hidden: h, intermediate: config.intermediateSize)
        let x = scratch.hidden
        let epsilon = config.layerNormEpsilon

        // Embeddings and their LayerNorm.
        for (index, sequence) in sequences.enumerated() {
            for (position, id) in sequence.enumerated() {
                let row = x + (offsets[index] + position) * h
                let word = wordEmbeddings + Int(id) * h, place = positionEmbeddings + position * h
                for j in 0..<h { row[j] = word[j] + place[j] + tokenTypeEmbeddings[j] }
            }
        }
        normalizeRows(x, tokenCount, embeddingNormWeight, embeddingNormBias, epsilon, pool)

        for layer in layers {
            linear(scratch.query, x, tokenCount, layer.query, layer.queryBias, h, h, .none, pool)
            linear(scratch.key, x, tokenCount, layer.key, layer.keyBias, h, h, .none, pool)
            linear(scratch.value, x, tokenCount, layer.value, layer.valueBias, h, h, .none, pool)
            attention(scratch, offsets: offsets, pool)
            linear(scratch.attended, scratch.context, tokenCount, layer.attentionOutput, layer.attentionOutputBias, h, h,
                   .add(UnsafePointer(x)), pool)
            normalizeRows(scratch.attended, tokenCount, layer.attentionNormWeight, layer.attentionNormBias, epsilon, pool)
            linear(scratch.intermediate, scratch.attended, tokenCount, layer.intermediate, layer.intermediateBias,
                   h, config.intermediateSize, .gelu, pool)
            linear(x, scratch.intermediate, tokenCount, layer.output, layer.outputBias, config.intermediateSize, h,
                   .add(UnsafePointer(scratch.attended)), pool)
            normalizeRows(x, tokenCount, layer.outputNormWeight, layer.outputNormBias, epsilon, pool)
        }

        // Mean pooling over each sentence's tokens, then L2 normalisation.
        var vectors: [[Float]] = []
        vectors.reserveCapacity(sequences.count)
        for index in sequences.indices {
            var sum = [Double](repeating: 0, count: h)
            for t in offsets[index]..<offsets[index + 1] {
                let row = x + t * h
                for j in 0..<h { sum[j] += Double(row[j]) }
            }
            var norm: Double = 0
            for j in 0..<h { norm += sum[j] * sum[j] }
            let scale = norm > 0 ? 1 / norm.squareRoot() : 0
            vectors.append(sum.map { Float($0 * scale) })
        }
        withExtendedLifetime(owners) {}
        return vectors
    }

    /// From this many tokens on, matrix products are split across workers by tokens, not rows.
    public static let tokenSplitThreshold = 256

    private func linear(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafeMutablePointer<Float>, _ tokens: Int,
        _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ inputs: Int, _ outputs: Int,
        _ epilogue: EncoderKernels.Epilogue, _ pool: WorkerPool?
    ) {
        let x = UnsafePointer(input)
        guard let pool else {
            EncoderKernels.matmul(out, x, tokens: 0..<tokens, weight, bias, inputs: inputs, outputs: outputs,
                                  rows: 0..<outputs, epilogue: epilogue)
            return
        }
        if tokens >= Self.tokenSplitThreshold {
            // Many tokens (a batch): each worker takes whole token blocks and all rows, so it reads
            // only its share of the activations (the weights, at most a few MB, stay in L3 for both).
            pool.parallelFor(tokens, grain: 4, slicesPerWorker: 1) { tokenRange in
                EncoderKernels.matmul(out, x, tokens: tokenRange, weight, bias, inputs: inputs, outputs: outputs,
                                      rows: 0..<outputs, epilogue: epilogue)
            }
        } else {
            // Few tokens (one short sentence): split the weight rows.
            pool.parallelFor(outputs, grain: EncoderKernels.rowBlock) { rows in
                EncoderKernels.matmul(out, x, tokens: 0..<tokens, weight, bias, inputs: inputs, outputs: outputs,
                                      rows: rows, epilogue: epilogue)
            }
        }
    }

    private func normalizeRows(
        _ x: UnsafeMutablePointer<Float>, _ tokens: Int, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ epsilon: Float, _ pool: WorkerPool?
    ) {
        let h = config.hiddenSize
        let body = { (range: Range<Int>) in
            for t in range { EncoderKernels.layerNorm(x + t * h, weight, bias, h, epsilon: epsilon) }
        }
        if let pool, tokens >= 32 { pool.parallelFor(tokens, grain: 8) { body($0) } } else { body(0..<tokens) }
    }

    /// Scaled dot-product attention per (sentence, head): softmax(q·kᵀ/√d)·v into `context`.
    private func attention(_ scratch: EncoderScratch, offsets: [Int], _ pool: WorkerPool?) {
        let h = config.hiddenSize, heads = config.headCount, d = config.headSize
        let jobs = (offsets.count - 1) * heads
        let scale = 1 / Float(d).squareRoot()
        let q = UnsafePointer(scratch.query), k = UnsafePointer(scratch.key), v = UnsafePointer(scratch.value)
        let context = scratch.context
        var longest = 0
        for index in 0..<(offsets.count - 1) { longest = max(longest, offsets[index + 1] - offsets[index]) }
        let scoreLength = longest
        let body = { (range: Range<Int>) in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: scoreLength)
            defer { scores.deallocate() }
            for job in range {
                let sentence = job / heads, head = job % heads
                let start = offsets[sentence], length = offsets[sentence + 1] - start
                let column = head * d
                for i in 0..<length {
                    let query = q + (start + i) * h + column
                    var maximum = -Float.infinity
                    for j in 0..<length {
                        let score = EncoderKernels.dot(query, k + (start + j) * h + column, d) * scale
                        scores[j] = score
                        maximum = max(maximum, score)
                    }
                    var total: Float = 0
                    for j in 0..<length {
                        let e = expf(scores[j] - maximum)
                        scores[j] = e
                        total += e
                    }
                    let out = context + (start + i) * h + column
                    out.update(repeating: 0, count: d)
                    let inverse = 1 / total
                    for j in 0..<length { EncoderKernels.addScaled(out, v + (start + j) * h + column, scores[j] * inverse, d) }
                }
            }
        }
        if let pool { pool.parallelFor(jobs) { body($0) } } else { body(0..<jobs) }
    }
}
