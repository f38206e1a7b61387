import CartridgeErrors

/// A llama2.c checkpoint mapped read-only: the v0 fp32 format of `run.c` (a negative vocab size
/// means the classifier is not shared) or the v2 "ak42" Q8_0 format of `runq.c`. Tensors point into
/// the mapping (zero copy).
///
/// v0 tensors start at byte 28, so they are 4-byte aligned only: the kernels use unaligned SIMD
/// loads (free on x86-64 and arm64 when the data is 4-byte aligned, as here).
public struct LlamaCheckpoint: Sendable {
    public enum Format: Hashable, Sendable {
        /// llama2.c `run.c` v0: 28-byte header, fp32 tensors.
        case float32
        /// llama2.c `runq.c` v2 ("ak42"): 256-byte header, fp32 norms, Q8_0 matrices.
        case q8_0(groupSize: Int)
    }

    public let config: LlamaConfig
    public let format: Format
    /// Every tensor, named and in canonical order (see `LlamaWeights`).
    public let tensors: [NamedTensor]
    /// The weights ready for `LlamaModel`.
    public let weights: LlamaWeights

    static let v2Magic: UInt32 = 0x616b_3432
    static let v2HeaderSize = 256

    /// Maps and parses the checkpoint at `path`.
    public init(path: String) throws(InferenceError) {
        let file = try MappedFile(path: path)
        do {
            try self.init(bytes: file.bytes, owner: file)
        } catch {
            throw InferenceError(error.code, "\(path): \(error.message)", fileID: error.location.fileID, line: error.location.line)
        }
    }

    /// Parses a checkpoint held in `bytes`, which `owner` keeps alive (nil if the caller does).
    public init(bytes: UnsafeRawBufferPointer, owner: (any AnyObject & Sendable)?) throws(InferenceError) {
        var reader = ByteReader(bytes, errorCode: .malformedCheckpoint)
        guard bytes.count >= 28 else {
            throw InferenceError(.malformedCheckpoint, "file is \(bytes.count) bytes, shorter than a checkpoint header")
        }
        if reader.peekUInt32() == Self.v2Magic {
            _ = try reader.uint32()
            let version = try reader.int32()
            guard version == 2 else {
                throw InferenceError(.malformedCheckpoint, "ak42 checkpoint version \(version) is not supported (need 2)")
            }
            guard bytes.count >= Self.v2HeaderSize else {
                throw InferenceError(.malformedCheckpoint, "file is \(bytes.count) bytes, shorter than the 256-byte v2 header")
            }
            var config = try Self.readConfig(&reader)
            guard config.vocab > 0 else { throw InferenceError(.malformedCheckpoint, "vocab size \(config.vocab) must be positive in v2") }
            let shared = try reader.uint8()
            guard shared <= 1 else { throw InferenceError(.malformedCheckpoint, "shared_classifier flag is \(shared), not 0 or 1") }
            config.sharedClassifier = shared == 1
            let groupSize = Int(try reader.int32())
            do { try config.validate() } catch { throw InferenceError(.malformedCheckpoint, error.message) }
            guard groupSize > 0, groupSize <= config.dim else {
                throw InferenceError(.malformedCheckpoint, "group size \(groupSize) is out of range 1...\(config.dim)")
            }
            reader.offset = Self.v2HeaderSize
            let tensors = try Self.mapQ8(&reader, config: config, groupSize: groupSize)
            self.config = config
            self.format = .q8_0(groupSize: groupSize)
            self.tensors = tensors
        } else {
            var config = try Self.readConfig(&reader)
            if config.vocab < 0 {
                config.vocab = -config.vocab
                config.sharedClassifier = false
            }
            do { try config.validate() } catch { throw InferenceError(.malformedCheckpoint, error.message) }
            let tensors = try Self.mapFloat32(&reader, config: config)
            self.config = config
            self.format = .float32
            self.tensors = tensors
        }
        var byName: [String: TensorView] = [:]
        for tensor in tensors { byName[tensor.name] = tensor.tensor }
        do {
            weights = try LlamaWeights(config: config, tensors: byName, owner: owner)
        } catch {
            throw InferenceError(.malformedCheckpoint, error.message)
        }
    }

    private static func readConfig(_ reader: inout ByteReader) throws(InferenceError) -> LlamaConfig {
        var values: [Int] = []
        for _ in 0..<7 { values.append(Int(try reader.int32())) }
        return LlamaConfig(
            dim: values[0], hiddenDim: values[1], layers: values[2], heads: values[3], kvHeads: values[4],
            vocab: values[5], seqLen: values[6], sharedClassifier: true)
    }

    /// run.c order: tok_embeddings, then each kind for all layers, norm, freq_cis (skipped), output.
    private static func mapFloat32(_ reader: inout ByteReader, config c: LlamaConfig) throws(InferenceError) -> [NamedTensor] {
        var named: [String: TensorView] = [:]
        func take(_ name: String, _ shape: [Int]) throws(InferenceError) {
            let count = try checkedCount(shape)
            named[name] = TensorView(.float32(try reader.floats(count, for: name)), shape: shape)
        }
        func perLayer(_ kind: String, _ shape: [Int]) throws(InferenceError) {
            for layer in 0..<c.layers { try take("layers.\(layer).\(kind)", shape) }
        }
        let d = c.dim, h = c.hiddenDim, kv = c.kvDim
        try take("tok_embeddings", [c.vocab, d])
        try perLayer("attention_norm", [d])
        try perLayer("wq", [d, d])
        try perLayer("wk", [kv, d])
        try perLayer("wv", [kv, d])
        try perLayer("wo", [d, d])
        try perLayer("ffn_norm", [d])
        try perLayer("w1", [h, d])
        try perLayer("w2", [d, h])
        try perLayer("w3", [h, d])
        try take("norm", [d])
        _ = try reader.floats(try checkedCount([c.seqLen, c.headSize]), for: "freq_cis")
        if !c.sharedClassifier { try take("output", [c.vocab, d]) }
        return LlamaWeights.tensorLayout(for: c).map { NamedTensor(name: $0.name, tensor: named[$0.name]!) }
    }

    /// runq.c order: fp32 norms, then Q8_0 (quants then scales per tensor) tok_embeddings, wq...w3 of all layers, output.
    private static func mapQ8(_ reader: inout ByteReader, config c: LlamaConfig, groupSize: Int) throws(InferenceError) -> [NamedTensor] {
        var named: [String: TensorView] = [:]
        let d = c.dim, h = c.hiddenDim, kv = c.kvDim
        for layer in 0..<c.layers {
            named["layers.\(layer).attention_norm"] = TensorView(.float32(try reader.floats(d, for: "attention_norm")), shape: [d])
        }
        for layer in 0..<c.layers {
            named["layers.\(layer).ffn_norm"] = TensorView(.float32(try reader.floats(d, for: "ffn_norm")), shape: [d])
        }
        named["norm"] = TensorView(.float32(try reader.floats(d, for: "norm")), shape: [d])
        func take(_ name: String, _ shape: [Int]) throws(InferenceError) {
            let count = try checkedCount(shape)
            guard shape[1] % groupSize == 0 else {
                throw InferenceError(
                    .malformedCheckpoint,
                    "tensor '\(name)' rows of \(shape[1]) are not a multiple of group size \(groupSize): its groups straddle rows (runq.c reads such files wrongly)")
            }
            let quants = try reader.take(count, for: name)
            let scales = try reader.take(count / groupSize * 4, for: name)
            named[name] = TensorView(
                .q8_0(quants: quants.assumingMemoryBound(to: Int8.self), scales: scales, groupSize: groupSize), shape: shape)
        }
        func perLayer(_ kind: String, _ shape: [Int]) throws(InferenceError) {
            for layer in 0..<c.layers { try take("layers.\(layer).\(kind)", shape) }
        }
        try take("tok_embeddings", [c.vocab, d])
        try perLayer("wq", [d, d])
        try perLayer("wk", [kv, d])
        try perLayer("wv", [kv, d])
        try perLayer("wo", [d, d])
        try perLayer("w1", [h, d])
        try perLayer("w2", [d, h])
        try perLayer("w3", [h, d])
        if !c.sharedClassifier { try take("output", [c.vocab, d]) }
        return LlamaWeights.tensorLayout(for: c).map { NamedTensor(name: $0.name, tensor: named[$0.name]!) }
    }

    private static func checkedCount(_ shape: [Int]) throws(InferenceError) -> Int {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product < Int(Int32.max) * 64 else {
                throw InferenceError(.malformedCheckpoint, "tensor of shape \(shape) is impossibly large")
            }
            count = product
        }
        return count
    }
}
