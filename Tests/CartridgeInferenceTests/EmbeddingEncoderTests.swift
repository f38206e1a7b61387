import CartridgeInference
import Foundation
import Testing

/// The BERT encoder against float64 references: a small random model with a float64 Swift forward
/// pass (padded batch + attention mask), and the real all-MiniLM-L6-v2 against numpy.
struct EmbeddingEncoderTests {
    /// A random BERT with odd sizes (intermediate 20 is not a multiple of the SIMD width).
    final class TinyBert: @unchecked Sendable {
        // @unchecked: the buffers are written in init only, then read.
        let config = try! BertConfig(
            vocabularySize: 40, hiddenSize: 16, layerCount: 2, headCount: 2, intermediateSize: 20, maximumPositions: 12,
            tokenTypeCount: 2, layerNormEpsilon: 1e-12)
        var values: [String: [Float]] = [:]
        var shapes: [String: [Int]] = [:]
        private var storage: [UnsafeMutablePointer<Float>] = []

        init(seed: UInt64) {
            var generator = seed
            func random() -> Float {
                generator = generator &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: generator >> 11) % 2000 - 1000) / 1000
            }
            for (name, shape) in BertEncoder.tensorNames(for: config) {
                let count = shape.reduce(1, *)
                let isNormWeight = name.hasSuffix("LayerNorm.weight")
                values[name] = (0..<count).map { _ in isNormWeight ? 1 + 0.2 * random() : 0.5 * random() }
                shapes[name] = shape
            }
        }

        func encoder() throws -> BertEncoder {
            var views: [String: TensorView] = [:]
            for (name, data) in values {
                let pointer = UnsafeMutablePointer<Float>.allocate(capacity: data.count)
                pointer.initialize(from: data, count: data.count)
                storage.append(pointer)
                views[name] = TensorView(.float32(UnsafePointer(pointer)), shape: shapes[name]!)
            }
            return try BertEncoder(tensors: views, config: config, owners: [self])
        }

        deinit { for pointer in storage { pointer.deallocate() } }

        /// Float64 forward pass over the batch padded to its longest sequence, with an additive
        /// attention mask, mean pooling over the mask and L2 normalisation.
        func reference(_ batch: [[Int32]]) -> [[Double]] {
            let h = config.hiddenSize, heads = config.headCount, d = h / heads, length = batch.map(\.count).max()!
            func w(_ name: String) -> [Double] { values[name]!.map(Double.init) }
            func layerNorm(_ x: [Double], _ prefix: String) -> [Double] {
                let weight = w(prefix + ".weight"), bias = w(prefix + ".bias")
                let mean = x.reduce(0, +) / Double(x.count)
                let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
                return x.indices.map { (x[$0] - mean) / (variance + 1e-12).squareRoot() * weight[$0] + bias[$0] }
            }
            func linear(_ x: [Double], _ prefix: String, _ outputs: Int) -> [Double] {
                let weight = w(prefix + ".weight"), bias = w(prefix + ".bias")
                return (0..<outputs).map { o in bias[o] + x.indices.reduce(0) { $0 + x[$1] * weight[o * x.count + $1] } }
            }
            return batch.map { sequence in
                let padded = sequence + Array(repeating: 0, count: length - sequence.count)
                let mask = padded.indices.map { $0 < sequence.count ? 0.0 : -1e30 }
                var x: [[Double]] = padded.enumerated().map { position, id in
                    let word = w("embeddings.word_embeddings.weight"), place = w("embeddings.position_embeddings.weight")
                    let type = w("embeddings.token_type_embeddings.weight")
                    return layerNorm((0..<h).map { word[Int(id) * h + $0] + place[position * h + $0] + type[$0] }, "embeddings.LayerNorm")
                }
                for layer in 0..<config.layerCount {
                    let p = "encoder.layer.\(layer)."
                    let q = x.map { linear($0, p + "attention.self.query", h) }
                    let k = x.map { linear($0, p + "attention.self.key", h) }
                    let v = x.map { linear($0, p + "attention.self.value", h) }
                    var context = Array(repeating: Array(repeating: 0.0, count: h), count: length)
                    for head in 0..<heads {
                        let columns = (head * d)..<((head + 1) * d)
                        for i in 0..<length {
                            let scores = (0..<length).map { j in
                                columns.reduce(0.0) { $0 + q[i][$1] * k[j][$1] } / Double(d).squareRoot() + mask[j]
                            }
                            let top = scores.max()!
                            let exps = scores.map { Foundation.exp($0 - top) }
                            let total = exps.reduce(0, +)
                            for c in columns { context[i][c] = (0..<length).reduce(0.0) { $0 + exps[$1] / total * v[$1][c] } }
                        }
                    }
                    x = x.indices.map { t in
                        let attended = linear(context[t], p + "attention.output.dense", h)
                        return layerNorm(attended.indices.map { attended[$0] + x[t][$0] }, p + "attention.output.LayerNorm")
                    }
                    x = x.map { row in
                        let inner = linear(row, p + "intermediate.dense", config.intermediateSize).map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
                        let out = linear(inner, p + "output.dense", h)
                        return layerNorm(out.indices.map { out[$0] + row[$0] }, p + "output.LayerNorm")
                    }
                }
                var pooled = Array(repeating: 0.0, count: h)
                for t in 0..<sequence.count { for j in 0..<h { pooled[j] += x[t][j] / Double(sequence.count) } }
                let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return pooled.map { $0 / norm }
            }
        }
    }

    static func cosine(_ a: [Float], _ b: [Double]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * y
            na += Double(x) * Double(x)
            nb += y * y
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    @Test func tinyModelMatchesFloat64ReferenceWithAndWithoutWorkers() throws {
        let model = TinyBert(seed: 7)
        let encoder = try model.encoder()
        // Lengths 1...12 mixed, so the packed batch has ragged sentences and partial register tiles.
        let batch: [[Int32]] = [[2, 5, 9, 3], [2, 3], [7], (0..<12).map { Int32($0 * 3 % 40) }, [2, 39, 38, 37, 36, 3], [1, 1, 1, 1, 1]]
        let expected = model.reference(batch)
        let pool = WorkerPool(maximumWorkers: 2)
        for vectors in [try encoder.embed(batch), try encoder.embed(batch, pool: pool)] {
            #expect(vectors.count == batch.count)
            for (vector, reference) in zip(vectors, expected) {
                #expect(vector.count == 16)
                #expect(Self.cosine(vector, reference) >= 0.99999)
                #expect(zip(vector, reference).allSatisfy { abs(Double($0) - $1) < 1e-4 })
            }
        }
        // A sentence's vector does not depend on what else is in the batch.
        let alone = try encoder.embed([batch[0]])[0]
        #expect(Self.cosine(alone, expected[0]) >= 0.99999)
    }

    /// A batch past `BertEncoder.tokenSplitThreshold` splits the matrix products by tokens instead
    /// of rows across the workers: the same arithmetic per token, so the same bits.
    @Test func largeBatchesSplitByTokensGiveTheSameVectors() throws {
        let model = TinyBert(seed: 3)
        let encoder = try model.encoder()
        var batch: [[Int32]] = []
        for sentence in 0..<40 {
            let content: [Int32] = (0..<(sentence % 10 + 1)).map { Int32(($0 * 7 + sentence) % 40) }
            batch.append([2] + content + [3])
        }
        #expect(batch.map(\.count).reduce(0, +) >= BertEncoder.tokenSplitThreshold)
        let alone = try encoder.embed(batch)
        let split = try encoder.embed(batch, pool: WorkerPool(maximumWorkers: 2))
        #expect(split == alone)
        let expected = model.reference(Array(batch.prefix(3)))
        for (vector, reference) in zip(split, expected) { #expect(Self.cosine(vector, reference) >= 0.99999) }
    }

    @Test func badInputsAreErrors() throws {
        let model = TinyBert(seed: 1)
        let encoder = try model.encoder()
        #expect(throws: InferenceError.self) { try encoder.embed([[2, 40]]) }
        #expect(throws: InferenceError.self) { try encoder.embed([[-1]]) }
        #expect(throws: InferenceError.self) { try encoder.embed([[]]) }
        #expect(throws: InferenceError.self) { try encoder.embed([Array(repeating: 1, count: 13)]) }
        #expect(try encoder.embed([]).isEmpty)

        var views: [String: TensorView] = [:]
        let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { dummy.deallocate() }
        for (name, shape) in BertEncoder.tensorNames(for: model.config) { views[name] = TensorView(.float32(dummy), shape: shape) }
        var missing = views
        missing["encoder.layer.1.output.dense.bias"] = nil
        #expect(throws: InferenceError.self) { try BertEncoder(tensors: missing, config: model.config) }
        var misshapen = views
        misshapen["encoder.layer.0.intermediate.dense.weight"] = TensorView(.float32(dummy), shape: [16, 20])
        #expect(throws: InferenceError.self) { try BertEncoder(tensors: misshapen, config: model.config) }
        #expect(throws: InferenceError.self) {
            try BertConfig(vocabularySize: 10, hiddenSize: 10, layerCount: 1, headCount: 3, intermediateSize: 4, maximumPositions: 4)
        }
    }

    static let sentences = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The girl is carrying a baby.",
        "A man is riding a horse.",
        "Ein Mann fährt Fahrrad; café crème, naïve façade!",
        "北京欢迎你。日本語のテキスト 😀",
        "How do I reset my password?",
        "Semantic search on a USB stick: the host sends sentences, the cartridge answers with vectors, and nothing leaves the device.",
        "a",
        // Issue 13, defect 9: about 200 tokens, above tokenizer.json's 128 and below max_seq_length 256.
        String(repeating: "The quick brown fox jumps over the lazy dog near the river bank. ", count: 15),
    ]

    @Test(.enabled(if: EmbeddingReference.isAvailable, "needs the model and numpy/safetensors/tokenizers"))
    func allMiniLMMatchesNumpyFloat64Reference() throws {
        let directory = try #require(EmbeddingReference.modelDirectory)
        let embedder = try SentenceEmbedder.load(directory: directory)
        #expect(embedder.dimension == 384)
        // sentence_bert_config.json's max_seq_length (as sentence-transformers), not tokenizer.json's 128.
        #expect(embedder.maximumTokens == 256)
        let expected = try EmbeddingReference.reference("embed", Self.sentences, as: [[Double]].self)
        let pool = WorkerPool(maximumWorkers: 2)
        let batched = try embedder.embed(Self.sentences, pool: pool)
        // Debug builds are slow: only two sentences are also embedded alone (no padding, no pool).
        let alone = [0: try embedder.embed([Self.sentences[0]])[0], 6: try embedder.embed([Self.sentences[6]])[0]]
        for (index, reference) in expected.enumerated() {
            for vector in [batched[index]] + (alone[index].map { [$0] } ?? []) {
                #expect(vector.count == 384)
                let cosine = Self.cosine(vector, reference)
                #expect(cosine >= 0.9999, "sentence \(index): cosine \(cosine)")
                let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(norm - 1) < 1e-5)
            }
        }
        // Semantics: the two eating sentences are closer to each other than to the horse.
        let similarity = { (a: Int, b: Int) in zip(batched[a], batched[b]).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        #expect(similarity(0, 1) > similarity(0, 3))
    }
}
