import CartridgeGGML
#if canImport(Glibc)
import Glibc
#endif

/// The activations and KV cache of one context, and the forward pass over them (llama2.c
/// `forward`, with the matrix products split across the model's worker pool). Not thread-safe:
/// `LlamaSession` serializes access.
final class DecoderState {
    let weights: LlamaWeights
    let config: LlamaConfig
    let x, xb, xb2, hb, q, att, logits: UnsafeMutablePointer<Float>
    /// [layers, seqLen, kvDim] each; pages are touched only as positions fill.
    let keyCache, valueCache: UnsafeMutablePointer<Float>
    /// Quantized activations for Q8_0 matrices: 3 slots (one per matrix of a fused product).
    let quants: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    private let slotLength: Int
    /// Activations for quantized ggml matrices (GGUF models), 3 slots as for Q8_0: 16-bit blocks of
    /// 32 (`GGMLKernels` wide dot products). 8-bit activations, as llama.cpp uses, moved SmolLM2's
    /// logits by RMS 0.27 from exact math and flipped greedy answers; 16-bit ones stay within ~1e-3.
    let activations: [WideQuantizedActivation]
    /// RoPE: per rotated pair j, the inverse frequency base^(-2j / ropeDimensions); and the
    /// cos/sin of the current position's angles.
    let inverseFrequencies, ropeCos, ropeSin: UnsafeMutablePointer<Float>

    init(weights: LlamaWeights) {
        self.weights = weights
        let c = weights.config
        config = c
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 16))
        }
        x = floats(c.dim)
        xb = floats(c.dim)
        xb2 = floats(c.dim)
        hb = floats(2 * c.hiddenDim)
        q = floats(c.dim)
        att = floats(c.heads * c.seqLen)
        logits = floats(c.vocab)
        let cacheCount = c.layers * c.seqLen * c.kvDim
        // calloc: large allocations are fresh zero pages, resident only once written.
        keyCache = calloc(cacheCount, 4)!.assumingMemoryBound(to: Float.self)
        valueCache = calloc(cacheCount, 4)!.assumingMemoryBound(to: Float.self)
        let slotLength = (max(c.dim, c.hiddenDim) + 63) / 64 * 64
        self.slotLength = slotLength
        quants = .allocate(capacity: 3 * slotLength)
        scales = .allocate(capacity: 3 * slotLength)
        activations = (0..<3).map { _ in WideQuantizedActivation.allocate(capacity: slotLength) }
        let pairs = c.ropeDimensions / 2
        inverseFrequencies = floats(pairs)
        ropeCos = floats(pairs)
        ropeSin = floats(pairs)
        for j in 0..<pairs {
            // The llama2.c formula (1 / powf(10000, headDim / headSize)) with the base and the
            // rotated width as parameters: identical values for llama2.c checkpoints.
            inverseFrequencies[j] = 1 / powf(c.ropeBase, Float(2 * j) / Float(c.ropeDimensions))
        }
    }

    deinit {
        for buffer in [x, xb, xb2, hb, q, att, logits, inverseFrequencies, ropeCos, ropeSin] { buffer.deallocate() }
        for activation in activations { activation.deallocate() }
        free(keyCache)
        free(valueCache)
        quants.deallocate()
        scales.deallocate()
    }

    /// Bytes of the KV cache if every position is used.
    var kvCacheBytes: Int { 2 * config.layers * config.seqLen * config.kvDim * 4 }

    /// An input vector prepared for one matrix: fp32, plus its Q8_0 quantization if the matrix is Q8_0.
    struct Input {
        var values: UnsafePointer<Float>
        var quants: UnsafePointer<Int8>
        var scales: UnsafePointer<Float>
        var activation: WideQuantizedActivation
    }

    private func prepare(_ x: UnsafePointer<Float>, for w: TensorView, slot: Int) -> Input {
        let q = quants + slot * slotLength
        let s = scales + slot * slotLength
        switch w.storage {
        case .q8_0(_, _, let gs): VectorMath.quantize(x, count: w.shape[1], groupSize: gs, quants: q, scales: s)
        case .ggml(let type, _) where GGMLKernels.usesQuantizedActivation(type):
            GGMLKernels.quantize(x, count: w.shape[1], into: activations[slot])
        default: break
        }
        return Input(values: x, quants: q, scales: s, activation: activations[slot])
    }

    /// out[i - rows.lowerBound] = row i of w · input, for i in rows.
    @inline(__always)
    private static func matvec(_ w: TensorView, _ input: Input, _ out: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let n = w.shape[1]
        switch w.storage {
        case .float32(let values):
            let base = UnsafeRawPointer(values)
            for i in rows {
                out[i &- rows.lowerBound] = VectorMath.dot(base + i &* n &* 4, input.values, count: n, prefetch: VectorMath.prefetchDistance)
            }
        case .q8_0(let wq, let ws, let gs):
            let groups = n / gs
            for i in rows {
                out[i &- rows.lowerBound] = VectorMath.dotQ8(
                    UnsafeRawPointer(wq) + i &* n, ws + i &* groups &* 4, input.quants, input.scales, count: n, groupSize: gs)
            }
        case .ggml(let type, let blocks):
            let rowBytes = type.rowByteCount(elements: n) ?? 0
            if GGMLKernels.usesQuantizedActivation(type) {
                for i in rows {
                    out[i &- rows.lowerBound] = GGMLKernels.dot(type, row: blocks + i &* rowBytes, wideActivation: input.activation, count: n)
                }
            } else {
                for i in rows {
                    out[i &- rows.lowerBound] = GGMLKernels.dot(type, row: blocks + i &* rowBytes, floats: input.values, count: n)
                }
            }
        }
    }

    /// Runs token `token` at position `pos`, filling the KV cache; computes `logits` if asked.
    func forward(token: Int, pos: Int, pool: WorkerPool, computeLogits: Bool) {
        let c = config
        let dim = c.dim, kvDim = c.kvDim, hidden = c.hiddenDim, headSize = c.headSize
        let kvMul = c.heads / c.kvHeads
        // Embedding row (dequantized if quantized).
        weights.tokenEmbeddings.copyRow(token, into: x)
        // RoPE angles of this position, shared by every head and layer.
        for j in 0..<(c.ropeDimensions / 2) {
            let angle = Float(pos) * inverseFrequencies[j]
            ropeCos[j] = cosf(angle)
            ropeSin[j] = sinf(angle)
        }
        let epsilon = c.rmsEpsilon

        for (l, layer) in weights.layers.enumerated() {
            guard case .float32(let attentionNorm) = layer.attentionNorm.storage,
                  case .float32(let ffnNorm) = layer.ffnNorm.storage else { preconditionFailure("norms are fp32") }
            VectorMath.rmsNorm(xb, x, attentionNorm, count: dim, epsilon: epsilon)
            let layerOffset = l * c.seqLen * kvDim
            let k = keyCache + layerOffset + pos * kvDim
            let v = valueCache + layerOffset + pos * kvDim

            // q, k, v in one parallel region over their concatenated rows.
            let inQ = prepare(xb, for: layer.wq, slot: 0)
            let inK = prepare(xb, for: layer.wk, slot: 1)
            let inV = prepare(xb, for: layer.wv, slot: 2)
            let q = self.q
            pool.parallelFor(dim + 2 * kvDim, grain: 8, costPerItem: dim) { rows in
                let qRows = rows.clamped(to: 0..<dim)
                if !qRows.isEmpty { Self.matvec(layer.wq, inQ, q + qRows.lowerBound, rows: qRows) }
                let kRows = rows.clamped(to: dim..<(dim + kvDim))
                if !kRows.isEmpty {
                    let r = (kRows.lowerBound - dim)..<(kRows.upperBound - dim)
                    Self.matvec(layer.wk, inK, k + r.lowerBound, rows: r)
                }
                let vRows = rows.clamped(to: (dim + kvDim)..<(dim + 2 * kvDim))
                if !vRows.isEmpty {
                    let r = (vRows.lowerBound - dim - kvDim)..<(vRows.upperBound - dim - kvDim)
                    Self.matvec(layer.wv, inV, v + r.lowerBound, rows: r)
                }
            }

            // RoPE: adjacent pairs (2j, 2j+1) of each head's first ropeDimensions values rotate by
            // pos * inverseFrequencies[j] (llama2.c; GGUF's llama convention).
            let rotated = c.ropeDimensions
            var head = 0
            while head < dim {
                var j = 0
                while j < rotated {
                    let fcr = ropeCos[j >> 1], fci = ropeSin[j >> 1]
                    let i = head + j
                    let v0 = q[i], v1 = q[i + 1]
                    q[i] = v0 * fcr - v1 * fci
                    q[i + 1] = v0 * fci + v1 * fcr
                    if i < kvDim {
                        let k0 = k[i], k1 = k[i + 1]
                        k[i] = k0 * fcr - k1 * fci
                        k[i + 1] = k0 * fci + k1 * fcr
                    }
                    j += 2
                }
                head += headSize
            }

            // Multi-head attention, heads split across workers.
            let att = self.att, xb = self.xb, keyCache = self.keyCache, valueCache = self.valueCache
            let scale = 1 / Float(headSize).squareRoot()
            let seqLen = c.seqLen
            pool.parallelFor(c.heads, costPerItem: 2 * (pos + 1) * headSize) { heads in
                for h in heads {
                    let qh = UnsafeRawPointer(q + h * headSize)
                    let scores = att + h * seqLen
                    let kvOffset = layerOffset + (h / kvMul) * headSize
                    for t in 0...pos {
                        scores[t] = VectorMath.dot(qh, keyCache + kvOffset + t * kvDim, count: headSize) * scale
                    }
                    VectorMath.softmax(scores, count: pos + 1)
                    let out = xb + h * headSize
                    for j in 0..<headSize { out[j] = 0 }
                    for t in 0...pos {
                        let a = scores[t]
                        let vt = valueCache + kvOffset + t * kvDim
                        for j in 0..<headSize { out[j] += a * vt[j] }
                    }
                }
            }

            // Output projection and residual.
            let inO = prepare(xb, for: layer.wo, slot: 0)
            let xb2 = self.xb2
            pool.parallelFor(dim, grain: 8, costPerItem: dim) { rows in Self.matvec(layer.wo, inO, xb2 + rows.lowerBound, rows: rows) }
            for j in 0..<dim { x[j] += xb2[j] }

            // SwiGLU feed-forward: hb = silu(w1·xb) * (w3·xb); x += w2·hb.
            VectorMath.rmsNorm(xb, x, ffnNorm, count: dim, epsilon: epsilon)
            let in1 = prepare(xb, for: layer.w1, slot: 0)
            let in3 = prepare(xb, for: layer.w3, slot: 1)
            let hb = self.hb, hb2 = self.hb + hidden
            pool.parallelFor(hidden, grain: 8, costPerItem: 2 * dim) { rows in
                Self.matvec(layer.w1, in1, hb + rows.lowerBound, rows: rows)
                Self.matvec(layer.w3, in3, hb2 + rows.lowerBound, rows: rows)
                for i in rows {
                    var value = hb[i]
                    value *= 1 / (1 + expf(-value))
                    hb[i] = value * hb2[i]
                }
            }
            let in2 = prepare(hb, for: layer.w2, slot: 2)
            pool.parallelFor(dim, grain: 8, costPerItem: hidden) { rows in Self.matvec(layer.w2, in2, xb + rows.lowerBound, rows: rows) }
            for j in 0..<dim { x[j] += xb[j] }
        }

        guard computeLogits else { return }
        guard case .float32(let finalNorm) = weights.finalNorm.storage else { preconditionFailure("norms are fp32") }
        VectorMath.rmsNorm(x, x, finalNorm, count: dim, epsilon: epsilon)
        let classifier = weights.classifier
        let inC = prepare(x, for: classifier, slot: 0)
        let logits = self.logits
        pool.parallelFor(c.vocab, grain: 16, costPerItem: dim) { rows in Self.matvec(classifier, inC, logits + rows.lowerBound, rows: rows) }
    }
}
