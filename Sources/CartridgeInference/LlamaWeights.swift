public import CartridgeGGML

/// The weights of a Llama decoder, independent of any file format: tensor views checked
/// against a `LlamaConfig`. Build it from a llama2.c checkpoint (`LlamaCheckpoint`) or from any
/// other mapping of named tensors (a cartridge image) with `init(config:tensors:owner:)`.
///
/// Canonical tensor names and shapes (`[rows, columns]`, `kvDim = kvHeads * dim / heads`), in
/// canonical order (`tensorLayout(for:)`):
///
/// | name | shape | element types |
/// |---|---|---|
/// | `tok_embeddings` | `[vocab, dim]` | fp32, q8_0 |
/// | `layers.N.attention_norm` | `[dim]` | fp32 |
/// | `layers.N.wq` | `[dim, dim]` | fp32, q8_0 |
/// | `layers.N.wk`, `layers.N.wv` | `[kvDim, dim]` | fp32, q8_0 |
/// | `layers.N.wo` | `[dim, dim]` | fp32, q8_0 |
/// | `layers.N.ffn_norm` | `[dim]` | fp32 |
/// | `layers.N.w1`, `layers.N.w3` | `[hiddenDim, dim]` | fp32, q8_0 |
/// | `layers.N.w2` | `[dim, hiddenDim]` | fp32, q8_0 |
/// | `norm` | `[dim]` | fp32 |
/// | `output` | `[vocab, dim]` (only when `sharedClassifier` is false) | fp32, q8_0 |
///
/// Each matrix may use its own element type; Q8_0 group sizes must divide the row length.
public struct LlamaWeights: Sendable {
    struct Layer: Sendable {
        var attentionNorm: TensorView
        var wq: TensorView
        var wk: TensorView
        var wv: TensorView
        var wo: TensorView
        var ffnNorm: TensorView
        var w1: TensorView
        var w2: TensorView
        var w3: TensorView
    }

    public let config: LlamaConfig
    let tokenEmbeddings: TensorView
    let layers: [Layer]
    let finalNorm: TensorView
    let classifier: TensorView
    /// Keeps the memory the views point into alive (a `MappedFile`, an image mapping).
    let owner: (any AnyObject & Sendable)?
    /// The norms copied out of a file mapping whose pages are given back (`givesBackMappedPages`).
    let copies: TensorCopies

    /// The canonical names and shapes of the tensors a model with `config` needs, in canonical order.
    public static func tensorLayout(for config: LlamaConfig) -> [(name: String, shape: [Int])] {
        let d = config.dim, h = config.hiddenDim, kv = config.kvDim
        var layout: [(name: String, shape: [Int])] = [("tok_embeddings", [config.vocab, d])]
        for layer in 0..<config.layers {
            let p = "layers.\(layer)."
            layout += [
                (p + "attention_norm", [d]), (p + "wq", [d, d]), (p + "wk", [kv, d]), (p + "wv", [kv, d]),
                (p + "wo", [d, d]), (p + "ffn_norm", [d]), (p + "w1", [h, d]), (p + "w2", [d, h]), (p + "w3", [h, d]),
            ]
        }
        layout.append(("norm", [d]))
        if !config.sharedClassifier { layout.append(("output", [config.vocab, d])) }
        return layout
    }

    /// Checks every tensor named in `tensorLayout(for: config)` and keeps `owner` alive as long as
    /// the weights (and any model built from them) live.
    public init(config: LlamaConfig, tensors: [String: TensorView], owner: (any AnyObject & Sendable)?) throws(InferenceError) {
        let copies = TensorCopies()
        self.copies = copies
        try config.validate()
        let copiesVectors = Self.givesBackMappedPages(owner: owner)
        let arena = Self.arena(for: config, tensors: tensors)
        func tensor(_ name: String, _ shape: [Int], matrix: Bool) throws(InferenceError) -> TensorView {
            guard let view = tensors[name] else { throw InferenceError(.invalidTensor, "tensor '\(name)' is missing") }
            guard view.shape == shape else {
                throw InferenceError(.invalidTensor, "tensor '\(name)' has shape \(view.shape), expected \(shape)")
            }
            switch view.storage {
            case .float32: break
            case .q8_0(_, _, let groupSize):
                guard matrix else { throw InferenceError(.invalidTensor, "tensor '\(name)' must be fp32, not \(view.elementTypeDescription)") }
                guard groupSize > 0, shape[shape.count - 1] % groupSize == 0 else {
                    throw InferenceError(
                        .invalidTensor, "tensor '\(name)': Q8_0 group size \(groupSize) does not divide its row length \(shape[shape.count - 1])")
                }
            case .ggml(let type, _):
                guard matrix else { throw InferenceError(.invalidTensor, "tensor '\(name)' must be fp32, not \(view.elementTypeDescription)") }
                guard type.isSupported else {
                    throw InferenceError(
                        .invalidTensor,
                        "tensor '\(name)' is \(type.name); the engine computes with \(GGMLType.supported.map(\.name).joined(separator: ", "))")
                }
                guard type.rowByteCount(elements: shape[shape.count - 1]) != nil else {
                    throw InferenceError(
                        .invalidTensor, "tensor '\(name)': its row length \(shape[shape.count - 1]) is not a whole number of \(type.name) blocks")
                }
            }
            if copiesVectors, !matrix, case .float32(let values) = view.storage {
                return TensorView(.float32(copies.copy(values, count: view.elementCount)), shape: view.shape)
            }
            return Self.repacked(view, owner: owner, arena: arena)
        }
        let d = config.dim, h = config.hiddenDim, kv = config.kvDim
        tokenEmbeddings = try tensor("tok_embeddings", [config.vocab, d], matrix: true)
        var layers: [Layer] = []
        for index in 0..<config.layers {
            let p = "layers.\(index)."
            layers.append(Layer(
                attentionNorm: try tensor(p + "attention_norm", [d], matrix: false),
                wq: try tensor(p + "wq", [d, d], matrix: true),
                wk: try tensor(p + "wk", [kv, d], matrix: true),
                wv: try tensor(p + "wv", [kv, d], matrix: true),
                wo: try tensor(p + "wo", [d, d], matrix: true),
                ffnNorm: try tensor(p + "ffn_norm", [d], matrix: false),
                w1: try tensor(p + "w1", [h, d], matrix: true),
                w2: try tensor(p + "w2", [d, h], matrix: true),
                w3: try tensor(p + "w3", [h, d], matrix: true)))
        }
        self.layers = layers
        finalNorm = try tensor("norm", [d], matrix: false)
        classifier = config.sharedClassifier ? tokenEmbeddings : try tensor("output", [config.vocab, d], matrix: true)
        self.config = config
        self.owner = owner
        giveBackMappedPages()
    }

    /// All tensors in canonical order (what an image burner writes).
    public var tensors: [NamedTensor] {
        var result = [NamedTensor(name: "tok_embeddings", tensor: tokenEmbeddings)]
        for (index, layer) in layers.enumerated() {
            let p = "layers.\(index)."
            result += [
                NamedTensor(name: p + "attention_norm", tensor: layer.attentionNorm), NamedTensor(name: p + "wq", tensor: layer.wq),
                NamedTensor(name: p + "wk", tensor: layer.wk), NamedTensor(name: p + "wv", tensor: layer.wv),
                NamedTensor(name: p + "wo", tensor: layer.wo), NamedTensor(name: p + "ffn_norm", tensor: layer.ffnNorm),
                NamedTensor(name: p + "w1", tensor: layer.w1), NamedTensor(name: p + "w2", tensor: layer.w2),
                NamedTensor(name: p + "w3", tensor: layer.w3),
            ]
        }
        result.append(NamedTensor(name: "norm", tensor: finalNorm))
        if !config.sharedClassifier { result.append(NamedTensor(name: "output", tensor: classifier)) }
        return result
    }

    /// Bytes of weights streamed per generated token: every matrix once, plus the classifier
    /// (the embedding row lookup is negligible).
    public var bytesPerToken: Int {
        var total = classifier.byteCount + finalNorm.byteCount
        for layer in layers {
            total += [layer.attentionNorm, layer.wq, layer.wk, layer.wv, layer.wo, layer.ffnNorm, layer.w1, layer.w2, layer.w3]
                .reduce(0) { $0 + $1.byteCount }
        }
        return total
    }
}
