/// Random-weight llama2.c checkpoints for benchmarks and tests, deterministic by seed: matrices
/// N(0, 0.02), norm weights 1, a tied classifier whose row 1 (BOS) is zero so greedy decoding
/// never stops on BOS (llama2.c stops there). The same seed gives the same weights in both
/// formats (the Q8_0 file is the quantization of the fp32 one).
public struct SyntheticCheckpoint: Sendable {
    public let config: LlamaConfig
    public let seed: UInt64

    public init(config: LlamaConfig, seed: UInt64 = 1) throws(InferenceError) {
        try config.validate()
        var shared = config
        shared.sharedClassifier = true
        self.config = shared
        self.seed = seed
    }

    /// The values of tensor `name` (see `LlamaWeights` for names; shapes from `tensorLayout`).
    public func values(of name: String) -> [Float] {
        guard let index = LlamaWeights.tensorLayout(for: config).firstIndex(where: { $0.name == name }) else { return [] }
        let shape = LlamaWeights.tensorLayout(for: config)[index].shape
        let count = shape.reduce(1, *)
        if shape.count == 1 { return [Float](repeating: 1, count: count) }
        var generator = NormalGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = generator.next() * 0.02 }
        if name == "tok_embeddings" {
            for j in 0..<config.dim { values[config.dim + j] = 0 }
        }
        return values
    }

    /// Writes the v0 fp32 checkpoint (run.c) through `sink`, in pieces.
    public func writeFloat32(to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let c = config
        let header: [Int32] = [c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads, c.vocab, c.seqLen].map { Int32($0) }
        try header.withUnsafeBytes(sink)
        try emit("tok_embeddings", to: sink)
        for kind in ["attention_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3"] {
            for layer in 0..<c.layers { try emit("layers.\(layer).\(kind)", to: sink) }
        }
        try emit("norm", to: sink)
        try [Float](repeating: 0, count: c.seqLen * c.headSize).withUnsafeBytes(sink)  // freq_cis, unused
    }

    /// Writes the v2 "ak42" Q8_0 checkpoint (runq.c) with `groupSize`, which must divide dim and hiddenDim.
    public func writeQ8(groupSize: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let c = config
        guard c.dim % groupSize == 0, c.hiddenDim % groupSize == 0 else {
            throw InferenceError(.invalidArgument, "group size \(groupSize) must divide dim \(c.dim) and hiddenDim \(c.hiddenDim)")
        }
        var header = [UInt8](repeating: 0, count: LlamaCheckpoint.v2HeaderSize)
        func put(_ value: UInt32, at offset: Int) {
            for i in 0..<4 { header[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        put(LlamaCheckpoint.v2Magic, at: 0)
        put(2, at: 4)
        for (i, value) in [c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads, c.vocab, c.seqLen].enumerated() {
            put(UInt32(value), at: 8 + 4 * i)
        }
        header[36] = 1
        put(UInt32(groupSize), at: 37)
        try header.withUnsafeBytes(sink)
        for layer in 0..<c.layers { try emit("layers.\(layer).attention_norm", to: sink) }
        for layer in 0..<c.layers { try emit("layers.\(layer).ffn_norm", to: sink) }
        try emit("norm", to: sink)
        func quantized(_ name: String, rowLength: Int) throws {
            let values = self.values(of: name)
            let (quants, scales) = try values.withUnsafeBufferPointer { buffer throws(InferenceError) in
                try Q8Quantizer.quantize(buffer, rowLength: rowLength, groupSize: groupSize)
            }
            try quants.withUnsafeBytes(sink)
            try scales.withUnsafeBytes(sink)
        }
        try quantized("tok_embeddings", rowLength: c.dim)
        for kind in ["wq", "wk", "wv", "wo", "w1", "w2", "w3"] {
            for layer in 0..<c.layers { try quantized("layers.\(layer).\(kind)", rowLength: kind == "w2" ? c.hiddenDim : c.dim) }
        }
    }

    private func emit(_ name: String, to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try values(of: name).withUnsafeBytes(sink)
    }
}
