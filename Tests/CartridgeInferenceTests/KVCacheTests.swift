import CartridgeGGML
import CartridgeGGUF
import CartridgeTestSupport
import Testing
@testable import CartridgeInference

/// The KV cache's element types: fp32 (llama2.c checkpoints), q16 (GGUF models' default) and fp16.
@Suite("KV cache types")
struct KVCacheTests {
    static let config = LlamaConfig(dim: 128, hiddenDim: 64, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seqLen: 40)

    static func syntheticGGUF() throws -> (GGUFLlamaModel, GGUFFile, ByteStorage) {
        let storage = ByteStorage(try SyntheticGGUFModel.fileBytes(matrixType: .q8_0))
        let file = try GGUFFile(bytes: storage.buffer)
        return (try GGUFLlamaModel(file: file), file, storage)
    }

    @Test("GGUF models default to q16 where heads allow it; bytes per position follow the type")
    func typesAndBytes() throws {
        let (gguf, _, _) = try Self.syntheticGGUF()
        let expected: KVCacheType = gguf.config.headSize % 32 == 0 ? .q16 : .f32
        #expect(gguf.config.kvCacheType == expected)
        #expect(gguf.withKVCache(.f16).config.kvCacheType == .f16)
        #expect(gguf.withKVCache(.f16).withKVCache(nil).config.kvCacheType == .f16)
        #expect(Self.config.kvCacheType == .f32)
        var config = Self.config  // kvDim 64
        for (type, row) in [(KVCacheType.f32, 256), (.f16, 128), (.q16, 136)] {
            config.kvCacheType = type
            #expect(KVCache.bytes(config: config, positions: 10) == 2 * 2 * 10 * row, "\(type)")
            #expect(KVCache(config: config, capacity: 10).capacityBytes == KVCache.bytes(config: config, positions: 10))
        }
        // q16 needs heads of whole blocks.
        var narrow = LlamaConfig(dim: 48, hiddenDim: 64, layers: 1, heads: 2, kvHeads: 2, vocab: 10, seqLen: 8)
        narrow.kvCacheType = .q16
        #expect(throws: InferenceError.self) { try narrow.validate() }
    }

    /// Grouped-query attention (`dotKeys`, `addValues`: the query heads that share a key head
    /// together, each cached row converted once) gives every head exactly what the per-head
    /// `dotKey` / `addValue` give, bit for bit, for 1...4 heads and every cache type.
    @Test("grouped-query dots and value sums equal the per-head ones bit for bit", arguments: KVCacheType.allCases)
    func groupedQueryEqualsPerHead(type: KVCacheType) {
        var config = LlamaConfig(dim: 256, hiddenDim: 64, layers: 2, heads: 8, kvHeads: 2, vocab: 64, seqLen: 24)
        config.kvCacheType = type
        let cache = KVCache(config: config, capacity: 24)
        let kvDim = config.kvDim, headSize = config.headSize  // 64 and 32: two key heads of 32
        var random = UInt64(0x1234_5678)
        func next() -> Float {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: random >> 11) % 2001 - 1000) / 250
        }
        let last = 17
        for position in 0...last {
            let keys = (0..<kvDim).map { _ in next() }, values = (0..<kvDim).map { _ in next() }
            cache.store(keys: keys, values: values, layer: 1, position: position)
        }
        let stride = 24
        for heads in 1...4 {
            let queries = (0..<(heads * headSize)).map { _ in next() }
            let weights = (0..<(heads * stride)).map { _ in abs(next()) / 4 }
            for offset in [0, headSize] {
                var grouped = [Float](repeating: -7, count: heads * stride)
                queries.withUnsafeBufferPointer { q in
                    grouped.withUnsafeMutableBufferPointer {
                        cache.dotKeys(layer: 1, through: last, offset: offset, queries: q.baseAddress!, heads: heads, count: headSize, scale: 0.17, into: $0.baseAddress!, stride: stride)
                    }
                }
                for h in 0..<heads {
                    for t in 0...last {
                        let single = queries.withUnsafeBufferPointer { cache.dotKey(layer: 1, position: t, offset: offset, $0.baseAddress! + h * headSize, count: headSize) * 0.17 }
                        #expect(grouped[h * stride + t] == single, "\(type) dot, \(heads) heads, head \(h), position \(t)")
                    }
                    #expect(grouped[h * stride + last + 1] == -7, "wrote past position \(last)")
                }
                var summed = [Float](repeating: 0.5, count: heads * headSize)
                weights.withUnsafeBufferPointer { w in
                    summed.withUnsafeMutableBufferPointer {
                        cache.addValues(layer: 1, through: last, offset: offset, weights: w.baseAddress!, stride: stride, heads: heads, count: headSize, into: $0.baseAddress!)
                    }
                }
                var expected = [Float](repeating: 0.5, count: heads * headSize)
                expected.withUnsafeMutableBufferPointer { out in
                    for h in 0..<heads {
                        for t in 0...last {
                            cache.addValue(layer: 1, position: t, offset: offset, weight: weights[h * stride + t], count: headSize, into: out.baseAddress! + h * headSize)
                        }
                    }
                }
                #expect(summed == expected, "\(type) values, \(heads) heads, offset \(offset)")
            }
        }
    }

    @Test("a cache reads back its type's rounding of the keys and values", arguments: KVCacheType.allCases)
    func storeAndRead(type: KVCacheType) {
        var config = Self.config
        config.kvCacheType = type
        let cache = KVCache(config: config, capacity: 8)
        let kvDim = config.kvDim
        let keys = (0..<kvDim).map { Float($0) * 0.1234567 - 3.9 }
        let values = (0..<kvDim).map { 1.0 / Float($0 + 3) }
        let query = (0..<kvDim).map { Float(($0 * 7) % 5) - 2.01 }
        cache.store(keys: keys, values: values, layer: 1, position: 5)
        // What the type keeps of each value: exact, fp16-rounded, or within half a block step.
        func bound(_ xs: [Float], _ i: Int) -> Double {
            switch type {
            case .f32: 0
            case .f16: abs(Double(Float(Float16(xs[i]))) - Double(xs[i]))
            case .q16: Double(xs[(i / 32 * 32)..<(i / 32 * 32 + 32)].map(abs).max()!) / 65534 * 1.0001
            }
        }
        for offset in [0, 32] {
            let got = query.withUnsafeBufferPointer { cache.dotKey(layer: 1, position: 5, offset: offset, $0.baseAddress!, count: 32) }
            let exact = (0..<32).reduce(0.0) { $0 + Double(query[$1]) * Double(keys[offset + $1]) }
            let slack = (0..<32).reduce(0.0) { $0 + abs(Double(query[$1])) * bound(keys, offset + $1) }
            #expect(abs(Double(got) - exact) <= slack + 1e-5, "\(type) dot at offset \(offset): \(got) vs \(exact)")
            var out = [Float](repeating: 1, count: 32)
            out.withUnsafeMutableBufferPointer { cache.addValue(layer: 1, position: 5, offset: offset, weight: 0.5, count: 32, into: $0.baseAddress!) }
            for j in 0..<32 {
                #expect(abs(Double(out[j]) - (1 + 0.5 * Double(values[offset + j]))) <= 0.5 * bound(values, offset + j) + 1e-6, "\(type) value \(offset + j)")
            }
        }
        if type != .f32 {
            let first = query.withUnsafeBufferPointer { cache.dotKey(layer: 1, position: 5, offset: 0, $0.baseAddress!, count: 32) }
            let exact = (0..<32).reduce(0.0) { $0 + Double(query[$1]) * Double(keys[$1]) }
            #expect(Double(first) != exact, "the type rounds (the test values are not all exact)")
        }
        // Other positions and layers are untouched (zero).
        let zero = query.withUnsafeBufferPointer { cache.dotKey(layer: 0, position: 5, offset: 0, $0.baseAddress!, count: kvDim) }
        #expect(zero == 0)
    }

    @Test("q16 and f16 caches track the fp32 one on a model with 32-wide heads", arguments: [KVCacheType.q16, .f16])
    func roundedCachesTrackFullPrecision(type: KVCacheType) throws {
        var config = Self.config
        let weights = try SmallModel(config: config, seed: 5).weights()
        config.kvCacheType = type
        let roundedWeights = try SmallModel(config: config, seed: 5).weights()
        let prompt: [Int32] = [1, 5, 9, 2, 7, 3, 11, 4, 8, 6, 10, 12, 40, 33, 21, 60, 2, 2, 9]
        let full = try LlamaModel(weights: weights, tokenizer: nil, maximumWorkers: 1)
        let rounded = try LlamaModel(weights: roundedWeights, tokenizer: nil, maximumWorkers: 1)
        #expect(rounded.config.kvCacheType == type && full.config.kvCacheType == .f32)
        let a = try rounded.makeSession().logitsOfEveryPosition(forPrompt: prompt)
        let b = try full.makeSession().logitsOfEveryPosition(forPrompt: prompt)
        #expect(a.count == b.count && a.count == prompt.count * config.vocab)
        var worst: Float = 0, scale: Float = 0
        for (x, y) in zip(a, b) {
            worst = max(worst, abs(x - y))
            scale = max(scale, abs(y))
        }
        print("\(type) vs fp32 KV cache, 32-wide heads: max |Δlogit| \(worst) of max |logit| \(scale)")
        #expect(worst > 0, "the \(type) cache is in use")
        #expect(worst <= 1e-3 * max(1, scale))
    }
}
