public import CartridgeGGML
public import CartridgeGGUF
public import CartridgeTokenizers

/// A Llama-family GGUF model (`general.architecture = llama`) read in place: its configuration
/// from the metadata, its tensors as views into the file (ggml types kept as they are), its
/// tokenizer built from `tokenizer.ggml.*` and its chat template. The GGUF file (or the image
/// that carries its metadata and tensors) must stay mapped while the model lives.
public struct GGUFLlamaModel: Sendable {
    /// The decoder's shape; its KV cache is q16 when the head size is a multiple of 32, else fp32
    /// (`withKVCache(_:)` picks another).
    public private(set) var config: LlamaConfig
    /// `general.name`, `general.license` (may be empty).
    public let name: String
    public let license: String
    /// `tokenizer.chat_template`, if the model has one.
    public let chatTemplate: String?
    public let tokenizer: any TextTokenizer
    /// `tokenizer.ggml.model` and `tokenizer.ggml.pre` ("gpt2" / "smollm").
    public let tokenizerDescription: String
    /// The matrices' element types, most common first ("Q4_1", "Q8_0").
    public let tensorTypes: [GGMLType]

    /// The GGUF tensor names of the canonical `LlamaWeights` names.
    public static func ggufName(ofCanonical name: String) -> String {
        let fixed = ["tok_embeddings": "token_embd.weight", "norm": "output_norm.weight", "output": "output.weight"]
        if let direct = fixed[name] { return direct }
        let parts = name.split(separator: ".")  // layers.N.wq
        guard parts.count == 3 else { return name }
        let suffix = [
            "attention_norm": "attn_norm", "wq": "attn_q", "wk": "attn_k", "wv": "attn_v", "wo": "attn_output",
            "ffn_norm": "ffn_norm", "w1": "ffn_gate", "w2": "ffn_down", "w3": "ffn_up",
        ][String(parts[2])] ?? String(parts[2])
        return "blk.\(parts[1]).\(suffix).weight"
    }

    /// Reads everything but the tensor data from `metadata` (a GGUF file's key/value pairs).
    /// `hasOutputTensor`: whether the file has `output.weight` (else the classifier is tied).
    public init(metadata file: GGUFFile, hasOutputTensor: Bool) throws(InferenceError) {
        func fail(_ message: String) -> InferenceError { InferenceError(.invalidConfiguration, message) }
        let architecture = file["general.architecture"]?.string ?? "(none)"
        guard architecture == "llama" else {
            throw fail("GGUF architecture '\(architecture)' is not supported (this engine runs 'llama': Llama, SmolLM, Mistral-style decoders)")
        }
        func integer(_ key: String, default value: Int? = nil) throws(InferenceError) -> Int {
            if let entry = file["llama." + key] {
                guard let number = entry.int else { throw fail("llama.\(key) is \(entry.valueType), not an integer") }
                return number
            }
            guard let value else { throw fail("llama.\(key) is missing") }
            return value
        }
        func real(_ key: String, default value: Float) throws(InferenceError) -> Float {
            guard let entry = file["llama." + key] else { return value }
            guard let number = entry.double else { throw fail("llama.\(key) is \(entry.valueType), not a number") }
            return Float(number)
        }
        let tokens = file["tokenizer.ggml.tokens"]?.stringArray
        guard let tokens, !tokens.isEmpty else { throw fail("tokenizer.ggml.tokens is missing: the model has no vocabulary") }
        let dim = try integer("embedding_length")
        let heads = try integer("attention.head_count")
        guard heads > 0, dim % heads == 0 else { throw fail("llama.embedding_length \(dim) is not a multiple of the head count \(heads)") }
        let headSize = dim / heads
        if let keyLength = file["llama.attention.key_length"]?.int, keyLength != headSize {
            throw fail("llama.attention.key_length \(keyLength) differs from embedding_length / head_count = \(headSize): not supported")
        }
        if let scaling = file["llama.rope.scaling.type"]?.string, scaling != "none" {
            throw fail("RoPE scaling '\(scaling)' is not supported")
        }
        let vocab = try integer("vocab_size", default: tokens.count)
        var config = LlamaConfig(
            dim: dim, hiddenDim: try integer("feed_forward_length"), layers: try integer("block_count"), heads: heads,
            kvHeads: try integer("attention.head_count_kv", default: heads), vocab: vocab,
            seqLen: try integer("context_length"), sharedClassifier: !hasOutputTensor,
            ropeBase: try real("rope.freq_base", default: 10000), ropeDimensions: try integer("rope.dimension_count", default: headSize),
            rmsEpsilon: try real("attention.layer_norm_rms_epsilon", default: 1e-5))
        config.kvCacheType = headSize % 32 == 0 ? .q16 : .f32
        try config.validate()
        guard tokens.count == vocab else { throw fail("the vocabulary has \(tokens.count) tokens but llama.vocab_size is \(vocab)") }
        self.config = config
        name = file["general.name"]?.string ?? ""
        license = file["general.license"]?.string ?? ""
        chatTemplate = file["tokenizer.chat_template"]?.string
        let model = file["tokenizer.ggml.model"]?.string ?? "(none)"
        let pre = file["tokenizer.ggml.pre"]?.string ?? "default"
        tokenizerDescription = model == "gpt2" ? "gpt2-bpe/\(pre)" : model == "llama" ? "sentencepiece-bpe" : model
        tokenizer = try Self.tokenizer(model: model, pre: pre, tokens: tokens, file: file)
        tensorTypes = []
    }

    private init(copying other: GGUFLlamaModel, tensorTypes: [GGMLType]) {
        config = other.config
        name = other.name
        license = other.license
        chatTemplate = other.chatTemplate
        tokenizer = other.tokenizer
        tokenizerDescription = other.tokenizerDescription
        self.tensorTypes = tensorTypes
    }

    /// The whole model description of a GGUF file, with the tensor types checked.
    public init(file: GGUFFile) throws(InferenceError) {
        let description = try GGUFLlamaModel(metadata: file, hasOutputTensor: file.tensor(named: "output.weight") != nil)
        var counts: [GGMLType: Int] = [:]
        for (name, shape) in LlamaWeights.tensorLayout(for: description.config) {
            let ggufName = Self.ggufName(ofCanonical: name)
            guard let info = file.tensor(named: ggufName) else { throw InferenceError(.invalidTensor, "tensor '\(ggufName)' is missing") }
            guard info.dimensions == shape.reversed() else {
                throw InferenceError(.invalidTensor, "tensor '\(ggufName)' has GGUF dimensions \(info.dimensions), expected \(Array(shape.reversed()))")
            }
            guard info.type.isSupported else {
                throw InferenceError(
                    .invalidTensor,
                    "tensor '\(ggufName)' is \(info.type.name); supported types: \(GGMLType.supported.map(\.name).joined(separator: ", "))")
            }
            if shape.count == 1, info.type != .f32 {
                throw InferenceError(.invalidTensor, "norm tensor '\(ggufName)' is \(info.type.name); norms must be F32")
            }
            if shape.count == 2 { counts[info.type, default: 0] += 1 }
        }
        self.init(copying: description, tensorTypes: counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) }.map(\.key))
    }

    /// The same model with a KV cache of `type` (nil: as it is).
    public func withKVCache(_ type: KVCacheType?) -> GGUFLlamaModel {
        guard let type else { return self }
        var copy = self
        copy.config.kvCacheType = type
        return copy
    }

    /// The weights as views into `file`'s bytes (which `owner` keeps mapped).
    public func weights(file: GGUFFile, owner: (any AnyObject & Sendable)?) throws(InferenceError) -> LlamaWeights {
        var views: [String: TensorView] = [:]
        for (name, shape) in LlamaWeights.tensorLayout(for: config) {
            let ggufName = Self.ggufName(ofCanonical: name)
            guard let info = file.tensor(named: ggufName) else { throw InferenceError(.invalidTensor, "tensor '\(ggufName)' is missing") }
            views[name] = try Self.view(type: info.type, bytes: file.data(of: info), shape: shape, name: ggufName)
        }
        return try LlamaWeights(config: config, tensors: views, owner: owner)
    }

    /// A tensor view of ggml data: F32 in place as fp32 (needs 4-byte alignment), others as ggml blocks.
    public static func view(type: GGMLType, bytes: UnsafeRawBufferPointer, shape: [Int], name: String) throws(InferenceError) -> TensorView {
        guard let base = bytes.baseAddress else { throw InferenceError(.invalidTensor, "tensor '\(name)' has no data") }
        if type == .f32 {
            guard Int(bitPattern: base) % 4 == 0 else { throw InferenceError(.invalidTensor, "tensor '\(name)' is not 4-byte aligned") }
            return TensorView(.float32(base.assumingMemoryBound(to: Float.self)), shape: shape)
        }
        return TensorView(.ggml(type, blocks: base), shape: shape)
    }

    /// A ready model over `file` (kept alive by `owner`); `prefillChunk` positions per forward pass.
    public func makeModel(file: GGUFFile, owner: (any AnyObject & Sendable)?, maximumWorkers: Int = 2, prefillChunk: Int = 64) throws(InferenceError) -> LlamaModel {
        try LlamaModel(weights: weights(file: file, owner: owner), tokenizer: tokenizer, maximumWorkers: maximumWorkers, prefillChunk: prefillChunk)
    }

    static func tokenizer(model: String, pre: String, tokens: [String], file: GGUFFile) throws(InferenceError) -> any TextTokenizer {
        func id(_ key: String) -> Int32? { file["tokenizer.ggml." + key]?.int.map { Int32(truncatingIfNeeded: $0) } }
        let types = file["tokenizer.ggml.token_type"]?.int32Array
        switch model {
        case "gpt2":
            guard let merges = file["tokenizer.ggml.merges"]?.stringArray else {
                throw InferenceError(.malformedTokenizer, "tokenizer.ggml.merges is missing (a gpt2 BPE vocabulary needs its merges)")
            }
            do {
                return try ByteLevelBPETokenizer(
                    tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: pre, bosID: id("bos_token_id"),
                    eosID: id("eos_token_id"), eotID: id("eot_token_id"), unknownID: id("unknown_token_id"),
                    addBOS: file["tokenizer.ggml.add_bos_token"]?.bool ?? false,
                    addEOS: file["tokenizer.ggml.add_eos_token"]?.bool ?? false)
            } catch {
                throw InferenceError(.malformedTokenizer, "GGUF tokenizer: \(error)")
            }
        case "llama":
            // SentencePiece-style BPE with scores and byte fallback (Llama 2 family).
            do {
                return try SentencePieceBPETokenizer(
                    tokens: tokens, scores: file["tokenizer.ggml.scores"]?.floatArray, tokenTypes: types, bosID: id("bos_token_id"),
                    eosID: id("eos_token_id"), eotID: id("eot_token_id"), unknownID: id("unknown_token_id"),
                    addBOS: file["tokenizer.ggml.add_bos_token"]?.bool ?? true, addEOS: file["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                    addSpacePrefix: file["tokenizer.ggml.add_space_prefix"]?.bool ?? true)
            } catch {
                throw InferenceError(.malformedTokenizer, "GGUF tokenizer: \(error)")
            }
        default:
            throw InferenceError(
                .malformedTokenizer,
                "tokenizer.ggml.model '\(model)' is not supported (supported: gpt2 byte-level BPE, llama SentencePiece BPE)")
        }
    }
}
