import CartridgeInference

/// A small random model held in arrays, built through the public `LlamaWeights` constructor
/// (the path a cartridge image takes), plus a float64 reference forward pass written from
/// llama2.c's `forward` for checking the engine.
final class SmallModel: Sendable {
    let config: LlamaConfig
    /// fp32 values by canonical name.
    let values: [String: [Float]]
    /// Q8_0 quantizations by name (matrices only), when built with a group size.
    let quantized: [String: (quants: [Int8], scales: [Float], groupSize: Int)]

    init(config: LlamaConfig, seed: UInt64, preferredGroupSize: Int? = nil) throws {
        self.config = config
        var state = seed | 1
        func uniform() -> Float {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Float((state &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 24) - 0.5
        }
        var values: [String: [Float]] = [:]
        var quantized: [String: (quants: [Int8], scales: [Float], groupSize: Int)] = [:]
        for (name, shape) in LlamaWeights.tensorLayout(for: config) {
            let count = shape.reduce(1, *)
            if shape.count == 1 {
                values[name] = (0..<count).map { _ in 1 + uniform() * 0.4 }
            } else {
                values[name] = (0..<count).map { _ in uniform() * 0.3 }
                if let preferredGroupSize {
                    let groupSize = Q8Quantizer.groupSize(preferred: preferredGroupSize, rowLengths: [config.dim, config.hiddenDim])
                    let q = try values[name]!.withUnsafeBufferPointer {
                        try Q8Quantizer.quantize($0, rowLength: shape[1], groupSize: groupSize)
                    }
                    quantized[name] = (q.quants, q.scales, groupSize)
                }
            }
        }
        self.values = values
        self.quantized = quantized
    }

    /// The views, pointing into fresh copies (fp32, or Q8_0 for matrices if quantized).
    func weights() throws -> LlamaWeights {
        var tensors: [String: TensorView] = [:]
        let layout = Dictionary(uniqueKeysWithValues: LlamaWeights.tensorLayout(for: config).map { ($0.name, $0.shape) })
        // Leaked per call, fine for tests: the views need stable memory for the model's lifetime.
        for (name, array) in values {
            let shape = layout[name]!
            if let q = quantized[name] {
                let quants = UnsafeMutablePointer<Int8>.allocate(capacity: q.quants.count)
                quants.initialize(from: q.quants, count: q.quants.count)
                let scales = UnsafeMutablePointer<Float>.allocate(capacity: q.scales.count)
                scales.initialize(from: q.scales, count: q.scales.count)
                tensors[name] = TensorView(.q8_0(quants: quants, scales: UnsafeRawPointer(scales), groupSize: q.groupSize), shape: shape)
            } else {
                let pointer = UnsafeMutablePointer<Float>.allocate(capacity: array.count)
                pointer.initialize(from: array, count: array.count)
                tensors[name] = TensorView(.float32(pointer), shape: shape)
            }
        }
        return try LlamaWeights(config: config, tensors: tensors, owner: self)
    }

    /// llama2.c's forward pass in float64 over `tokens` from position 0; returns the last logits.
    /// With `quantizedActivations`, matrices use the Q8_0 weights and activations are quantized
    /// per group exactly as runq.c does (integer dot products are exact in both).
    func referenceLogits(_ tokens: [Int32], quantizedActivations: Bool = false) -> [Double] {
        let c = config
        let dim = c.dim, kvDim = c.kvDim, headSize = c.headSize, kvMul = c.heads / c.kvHeads
        func w(_ name: String) -> [Double] {
            if let q = quantized[name] {
                return q.quants.enumerated().map { Double($0.element) * Double(q.scales[$0.offset / q.groupSize]) }
            }
            return values[name]!.map(Double.init)
        }
        func matvec(_ name: String, _ x: [Double], rows: Int) -> [Double] {
            let n = x.count
            if quantizedActivations, let q = quantized[name] {
                // runq.c quantize(): in fp32, scale = max|x| / 127, q = round(x / scale).
                let gs = q.groupSize
                var xq = [Int](repeating: 0, count: n)
                var xs = [Double](repeating: 0, count: n / gs)
                for g in 0..<(n / gs) {
                    let group = (0..<gs).map { Float(x[g * gs + $0]) }
                    let scale = group.map(abs).max()! / 127
                    xs[g] = Double(scale)
                    for i in 0..<gs { xq[g * gs + i] = scale == 0 ? 0 : Int((group[i] / scale).rounded(.toNearestOrAwayFromZero)) }
                }
                return (0..<rows).map { row in
                    var sum = 0.0
                    for g in 0..<(n / gs) {
                        var isum = 0
                        for k in 0..<gs { isum += Int(q.quants[row * n + g * gs + k]) * xq[g * gs + k] }
                        sum += Double(isum) * Double(q.scales[(row * n + g * gs) / gs]) * xs[g]
                    }
                    return sum
                }
            }
            let m = w(name)
            return (0..<rows).map { row in (0..<n).reduce(0.0) { $0 + m[row * n + $1] * x[$1] } }
        }
        func rmsNorm(_ x: [Double], _ name: String) -> [Double] {
            let weight = values[name]!
            let ss = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + 1e-5).squareRoot()
            return x.indices.map { Double(weight[$0]) * ss * x[$0] }
        }
        var keys = [[[Double]]](repeating: [], count: c.layers)
        var vals = [[[Double]]](repeating: [], count: c.layers)
        var logits: [Double] = []
        let embeddings = w("tok_embeddings")
        for (pos, token) in tokens.enumerated() {
            var x = Array(embeddings[(Int(token) * dim)..<(Int(token) * dim + dim)])
            for l in 0..<c.layers {
                let p = "layers.\(l)."
                let xb = rmsNorm(x, p + "attention_norm")
                var q = matvec(p + "wq", xb, rows: dim)
                var k = matvec(p + "wk", xb, rows: kvDim)
                let v = matvec(p + "wv", xb, rows: kvDim)
                for i in stride(from: 0, to: dim, by: 2) {
                    let frequency = 1 / pow(10000.0, Double(i % headSize) / Double(headSize))
                    let angle = Double(pos) * frequency
                    let (fcr, fci) = (cos(angle), sin(angle))
                    (q[i], q[i + 1]) = (q[i] * fcr - q[i + 1] * fci, q[i] * fci + q[i + 1] * fcr)
                    if i < kvDim { (k[i], k[i + 1]) = (k[i] * fcr - k[i + 1] * fci, k[i] * fci + k[i + 1] * fcr) }
                }
                keys[l].append(k)
                vals[l].append(v)
                var attended = [Double](repeating: 0, count: dim)
                for h in 0..<c.heads {
                    let kvh = h / kvMul
                    var scores = (0...pos).map { t in
                        (0..<headSize).reduce(0.0) { $0 + q[h * headSize + $1] * keys[l][t][kvh * headSize + $1] } / Double(headSize).squareRoot()
                    }
                    let maximum = scores.max()!
                    scores = scores.map { exp($0 - maximum) }
                    let total = scores.reduce(0, +)
                    for t in 0...pos {
                        for j in 0..<headSize { attended[h * headSize + j] += scores[t] / total * vals[l][t][kvh * headSize + j] }
                    }
                }
                let o = matvec(p + "wo", attended, rows: dim)
                for j in 0..<dim { x[j] += o[j] }
                let xb2 = rmsNorm(x, p + "ffn_norm")
                let h1 = matvec(p + "w1", xb2, rows: c.hiddenDim)
                let h3 = matvec(p + "w3", xb2, rows: c.hiddenDim)
                let hb = h1.indices.map { h1[$0] / (1 + exp(-h1[$0])) * h3[$0] }
                let down = matvec(p + "w2", hb, rows: dim)
                for j in 0..<dim { x[j] += down[j] }
            }
            if pos == tokens.count - 1 {
                let final = rmsNorm(x, "norm")
                logits = matvec(c.sharedClassifier ? "tok_embeddings" : "output", final, rows: c.vocab)
            }
        }
        return logits
    }
}

#if canImport(Glibc)
import Glibc
#endif
