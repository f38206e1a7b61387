import CartridgeGGML
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The activations of a batch of up to `rowCapacity` positions and the forward pass over them
/// (llama2.c `forward`, batched): every matrix is applied to all rows of the batch while its
/// weights are in cache (quantized rows are unpacked once per four positions by the
/// multi-column kernels), the products are split across the model's worker pool, and each row
/// attends over its own sequence's KV cache. One batch can be a prefill chunk (consecutive
/// positions of one sequence), a decoding step of several sequences, or both.
///
/// `@unchecked Sendable`: not thread-safe itself; `LlamaModel` hands it out under a lock, so one
/// thread at a time uses it (its worker threads only during `forward`, joined before it returns).
final class DecoderState: @unchecked Sendable {
    let weights: LlamaWeights
    let config: LlamaConfig
    /// Positions one forward pass can take.
    let rowCapacity: Int
    /// Logit rows computed together (more are done in groups).
    let logitRowCapacity: Int
    /// [rowCapacity, dim] each.
    let x, xb, xb2, q: UnsafeMutablePointer<Float>
    /// [rowCapacity, hiddenDim] each.
    let hb, hb2: UnsafeMutablePointer<Float>
    /// This batch's new keys and values, [rowCapacity, kvDim], before they go to each row's cache.
    let newKeys, newValues: UnsafeMutablePointer<Float>
    /// [logitRowCapacity, vocab].
    let logitRows: UnsafeMutablePointer<Float>
    /// Query heads one attention task takes together: those that share a key head (kvMul) when
    /// at most 4 (the grouped q16 kernels' limit), else 1.
    let attentionGroupSize: Int
    /// Attention scores: per worker thread, one row of seqLen for each of a task's query heads.
    let scores: UnsafeMutablePointer<Float>
    /// RoPE cos/sin of each row's position, [rowCapacity, ropeDimensions / 2].
    let ropeCos, ropeSin: UnsafeMutablePointer<Float>
    /// RoPE: per rotated pair j, the inverse frequency base^(-2j / ropeDimensions).
    let inverseFrequencies: UnsafeMutablePointer<Float>
    /// Quantized inputs, two slots (an input and the next one being prepared are never needed at
    /// once beyond two) of rowCapacity rows each: Q8_0 for llama2.c Q8_0 checkpoints, and 16-bit
    /// blocks of 32 for ggml matrices (GGUF models). 8-bit activations, as llama.cpp uses, moved
    /// SmolLM2's logits by RMS 0.27 from exact math and flipped greedy answers; 16-bit ones stay
    /// within ~1e-3.
    let quants: UnsafeMutablePointer<Int8>
    let quantScales: UnsafeMutablePointer<Float>
    let activations: UnsafeMutablePointer<WideQuantizedActivation>
    /// Each worker's own quantized input of a small decoding step (`product`): workers ×
    /// `privateColumns`.
    let privateActivations: UnsafeMutablePointer<WideQuantizedActivation>
    /// Each worker's scratch row (slotLength floats) for normalizing before it quantizes.
    let privateRows: UnsafeMutablePointer<Float>
    private let slotLength: Int
    private let workers: Int
    /// The calloc blocks behind the fp32 buffers (freed in deinit).
    private let floatBlocks: [UnsafeMutableRawPointer]

    init(weights: LlamaWeights, rowCapacity: Int, logitRowCapacity: Int, workers: Int) {
        self.weights = weights
        let c = weights.config
        config = c
        self.rowCapacity = max(1, rowCapacity)
        self.logitRowCapacity = max(1, logitRowCapacity)
        self.workers = max(1, workers)
        // Zeroed by calloc, which maps large blocks as fresh zero pages: rows a batch never
        // reaches (the logit rows of a single sequence, a decoding step's unused prefill rows)
        // cost no resident memory. 64-byte aligned inside a block 64 bytes longer.
        var blocks: [UnsafeMutableRawPointer] = []
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let block = calloc(max(count, 16) * 4 + 64, 1)!
            blocks.append(block)
            let aligned = (Int(bitPattern: block) + 63) & ~63
            return UnsafeMutableRawPointer(bitPattern: aligned)!.bindMemory(to: Float.self, capacity: max(count, 16))
        }
        let rows = self.rowCapacity
        x = floats(rows * c.dim)
        xb = floats(rows * c.dim)
        xb2 = floats(rows * c.dim)
        q = floats(rows * c.dim)
        hb = floats(rows * c.hiddenDim)
        hb2 = floats(rows * c.hiddenDim)
        newKeys = floats(rows * c.kvDim)
        newValues = floats(rows * c.kvDim)
        logitRows = floats(self.logitRowCapacity * c.vocab)
        let kvMul = c.heads / c.kvHeads
        attentionGroupSize = kvMul <= 4 ? kvMul : 1
        scores = floats(self.workers * attentionGroupSize * c.seqLen)
        let pairs = c.ropeDimensions / 2
        ropeCos = floats(rows * pairs)
        ropeSin = floats(rows * pairs)
        inverseFrequencies = floats(pairs)
        for j in 0..<pairs {
            // The llama2.c formula (1 / powf(10000, headDim / headSize)) with the base and the
            // rotated width as parameters: identical values for llama2.c checkpoints.
            inverseFrequencies[j] = 1 / powf(c.ropeBase, Float(2 * j) / Float(c.ropeDimensions))
        }
        let slotLength = (max(c.dim, c.hiddenDim) + 63) / 64 * 64
        self.slotLength = slotLength
        privateRows = floats(self.workers * slotLength)
        floatBlocks = blocks
        quants = .allocate(capacity: 2 * rows * slotLength)
        quantScales = .allocate(capacity: 2 * rows * slotLength)
        activations = .allocate(capacity: 2 * rows)
        for i in 0..<(2 * rows) { (activations + i).initialize(to: WideQuantizedActivation.allocate(capacity: slotLength)) }
        let privateCount = self.workers * Self.privateColumns
        privateActivations = .allocate(capacity: privateCount)
        for i in 0..<privateCount { (privateActivations + i).initialize(to: WideQuantizedActivation.allocate(capacity: slotLength)) }
    }

    deinit {
        for block in floatBlocks { free(block) }
        for i in 0..<(2 * rowCapacity) { activations[i].deallocate() }
        activations.deinitialize(count: 2 * rowCapacity)
        activations.deallocate()
        for i in 0..<(workers * Self.privateColumns) { privateActivations[i].deallocate() }
        privateActivations.deinitialize(count: workers * Self.privateColumns)
        privateActivations.deallocate()
        quants.deallocate()
        quantScales.deallocate()
    }

    /// Input rows prepared for the matrices of one product: fp32 rows, plus their quantization for
    /// Q8_0 (llama2.c) or ggml quantized matrices.
    struct Input {
        var values: UnsafePointer<Float>
        var valueStride: Int
        var columns: Int
        var quants: UnsafePointer<Int8>
        var quantScales: UnsafePointer<Float>
        var quantStride: Int
        var activations: UnsafePointer<WideQuantizedActivation>
    }

    /// Quantizes rows x[c · stride ..< c · stride + n] (n = the matrices' row length) for
    /// c in 0..<columns once for all of `matrices` (they share the input); the columns of a
    /// prefill chunk on the worker pool.
    private func prepare(_ x: UnsafePointer<Float>, stride: Int, columns: Int, for matrices: [TensorView], slot: Int, pool: WorkerPool) -> Input {
        let q = quants + slot * rowCapacity * slotLength
        let s = quantScales + slot * rowCapacity * slotLength
        let a = activations + slot * rowCapacity
        let n = matrices[0].shape[1]
        var didQ8 = false, didWide = false
        for w in matrices {
            switch w.storage {
            case .q8_0(_, _, let gs) where !didQ8:
                didQ8 = true
                let slotLength = self.slotLength
                pool.parallelFor(columns, costPerItem: Self.quantizeCost * n) { range in
                    for c in range {
                        VectorMath.quantize(x + c * stride, count: n, groupSize: gs, quants: q + c * slotLength, scales: s + c * slotLength)
                    }
                }
            case .ggml(let type, _) where !didWide && GGMLKernels.usesQuantizedActivation(type):
                didWide = true
                pool.parallelFor(columns, costPerItem: Self.quantizeCost * n) { range in
                    for c in range { GGMLKernels.quantize(x + c * stride, count: n, into: a[c]) }
                }
            default: break
            }
        }
        return Input(values: x, valueStride: stride, columns: columns, quants: q, quantScales: s, quantStride: slotLength, activations: a)
    }

    /// Rows 0..<outputs of the matrices (which share the input x) by `body(input, range)` on the
    /// pool, ranges in multiples of 8. A small decoding step on several workers (at most
    /// `privateColumns` rows, matrices with the interleaved kernels) has each worker quantize
    /// the input into its own activations before its first range, instead of the calling thread
    /// quantizing into shared ones while the others wait: the serial part goes, and each worker's
    /// stores stay in its own cache (shared ones were 4-5x slower per element at two threads,
    /// their lines last read by the other core). The same values either way.
    ///
    /// With `norm`, the input is RMS-normalized x (weights `norm`): into `normalized` on the
    /// shared path, and on the per-worker path by each worker into its own scratch row, which it
    /// quantizes (the calling thread no longer normalizes alone first).
    private func product(
        _ x: UnsafePointer<Float>, stride: Int, columns: Int, normalizedBy norm: UnsafePointer<Float>? = nil, epsilon: Float = 0,
        into normalized: UnsafeMutablePointer<Float>? = nil, for matrices: [TensorView], slot: Int, pool: WorkerPool,
        outputs: Int, costPerItem: Int, _ body: (Input, Range<Int>) -> Void
    ) {
        let n = matrices[0].shape[1]
        let perWorker = columns <= Self.privateColumns && pool.activeWorkers > 1 && pool.maximumWorkers <= workers
            && matrices.allSatisfy { matrix in
                guard case .ggml(let type, _) = matrix.storage else { return false }
                return matrix.interleaved != nil && GGMLKernels.usesQuantizedActivation(type)
            }
        guard perWorker else {
            var source = x
            if let norm, let normalized {
                pool.parallelFor(columns, costPerItem: Self.quantizeCost * n) { range in
                    for r in range { VectorMath.rmsNorm(normalized + r * stride, x + r * stride, norm, count: n, epsilon: epsilon) }
                }
                source = UnsafePointer(normalized)
            }
            let input = prepare(source, stride: stride, columns: columns, for: matrices, slot: slot, pool: pool)
            pool.parallelFor(outputs, grain: 8, costPerItem: costPerItem) { body(input, $0) }
            return
        }
        let privateActivations = self.privateActivations, privateRows = self.privateRows, slotLength = self.slotLength
        // One flag per worker, a cache line apart: set by that worker only.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: workers * 8) { prepared in
            for w in 0..<workers { prepared[w * 8] = 0 }
            pool.parallelFor(outputs, grain: 8, costPerItem: costPerItem) { worker, range in
                let activations = privateActivations + worker * Self.privateColumns
                if prepared[worker * 8] == 0 {
                    let scratch = privateRows + worker * slotLength
                    for c in 0..<columns {
                        if let norm {
                            VectorMath.rmsNorm(scratch, x + c * stride, norm, count: n, epsilon: epsilon)
                            GGMLKernels.quantize(scratch, count: n, into: activations[c])
                        } else {
                            GGMLKernels.quantize(x + c * stride, count: n, into: activations[c])
                        }
                    }
                    prepared[worker * 8] = 1
                }
                let input = Input(
                    values: x, valueStride: stride, columns: columns, quants: UnsafePointer(quants), quantScales: UnsafePointer(quantScales),
                    quantStride: slotLength, activations: UnsafePointer(activations))
                body(input, range)
            }
        }
    }

    /// Rows a decoding step may have for `product`'s per-worker inputs.
    static let privateColumns = 4

    /// About the multiply-adds one activation element's quantization (or normalization) is worth,
    /// for `WorkerPool.parallelFor`'s serial threshold: 576-wide rows go parallel from 22 rows.
    static let quantizeCost = 4

    /// Weight bytes per tile of rows in the multi-column products: with a group's activations
    /// (4 × 1536 × 2 bytes at most for SmolLM2) it fits a 32 KiB L1 data cache.
    static let weightTileBytes = 16 * 1024

    /// out[c · outStride + (i − rows.lowerBound)] = row i of w · input column c, for i in rows and
    /// every column of the input.
    @inline(__always)
    private static func multiply(_ w: TensorView, _ input: Input, _ out: UnsafeMutablePointer<Float>, outStride: Int, rows: Range<Int>) {
        let n = w.shape[1]
        let columns = input.columns
        switch w.storage {
        case .float32(let values):
            let base = UnsafeRawPointer(values)
            for i in rows {
                for c in 0..<columns {
                    out[c &* outStride &+ i &- rows.lowerBound] = VectorMath.dot(
                        base + i &* n &* 4, input.values + c &* input.valueStride, count: n, prefetch: VectorMath.prefetchDistance)
                }
            }
        case .q8_0(let wq, let ws, let gs):
            let groups = n / gs
            for i in rows {
                for c in 0..<columns {
                    out[c &* outStride &+ i &- rows.lowerBound] = VectorMath.dotQ8(
                        UnsafeRawPointer(wq) + i &* n, ws + i &* groups &* 4, input.quants + c &* input.quantStride,
                        input.quantScales + c &* input.quantStride, count: n, groupSize: gs)
                }
            }
        case .ggml(let type, let blocks):
            let rowBytes = type.rowByteCount(elements: n) ?? 0
            if let interleaved = w.interleaved {
                // Whole groups of eight rows by the interleaved kernels; the parallel ranges are
                // multiples of 8 (grain 8), so the row-kernel remainder below is for other callers.
                let first = (rows.lowerBound + 7) / 8, last = max(first, rows.upperBound / 8)
                if first < last {
                    interleaved.multiply(
                        groups: first..<last, activations: input.activations, columns: columns,
                        into: out + (first * 8 - rows.lowerBound), stride: outStride)
                }
                let covered = (first * 8)..<(last * 8)
                for i in rows where !covered.contains(i) {
                    for c in 0..<columns {
                        out[c &* outStride &+ i &- rows.lowerBound] = GGMLKernels.dot(
                            type, row: blocks + i &* rowBytes, wideActivation: input.activations[c], count: n)
                    }
                }
            } else if GGMLKernels.usesQuantizedActivation(type) {
                if columns == 1 {
                    let a = input.activations[0]
                    for i in rows {
                        out[i &- rows.lowerBound] = GGMLKernels.dot(type, row: blocks + i &* rowBytes, wideActivation: a, count: n)
                    }
                } else {
                    // Cache-blocked: a tile of rows (about `weightTileBytes` of weights) against one
                    // group of columns at a time, so both the group's int16 activations (4 × n × 2
                    // bytes) and the tile's weights stay in L1 while every pair of them is dotted.
                    // Row by row over all columns re-read every column's activations from L2 for
                    // each row: 64 bytes per block of 32 and column, where the 4-bit weights are
                    // 18-20 bytes per block shared by the group.
                    let tile = max(1, Self.weightTileBytes / max(rowBytes, 1))
                    var start = rows.lowerBound
                    while start < rows.upperBound {
                        let end = min(start &+ tile, rows.upperBound)
                        var column = 0
                        while column < columns {
                            let group = min(GGMLKernels.columnGroupSize, columns &- column)
                            let target = out + column &* outStride
                            for i in start..<end {
                                GGMLKernels.dot(
                                    type, row: blocks + i &* rowBytes, wideActivations: input.activations + column, columns: group, count: n,
                                    into: target + (i &- rows.lowerBound), stride: outStride)
                            }
                            column &+= group
                        }
                        start = end
                    }
                }
            } else {
                for i in rows {
                    for c in 0..<columns {
                        out[c &* outStride &+ i &- rows.lowerBound] = GGMLKernels.dot(
                            type, row: blocks + i &* rowBytes, floats: input.values + c &* input.valueStride, count: n)
                    }
                }
            }
        }
    }

    /// Runs token `token` of `cache`'s sequence at `position`; writes its logits to `logits` if given.
    func forward(token: Int32, position: Int, cache: KVCache, pool: WorkerPool, logits: UnsafeMutablePointer<Float>?) {
        let row = DecoderRow(cache: cache, token: token, position: position, logits: logits)
        withUnsafePointer(to: row) { _ = forward(UnsafeBufferPointer(start: $0, count: 1), pool: pool, shouldStop: nil) }
    }

    /// Runs a batch of at most `rowCapacity` rows. `shouldStop` is asked before each layer's
    /// attention and before its feed-forward part; when it
    /// returns true the pass ends early and returns false (the rows' cache positions are then
    /// partly written and must not be used).
    func forward(_ rows: UnsafeBufferPointer<DecoderRow>, pool: WorkerPool, shouldStop: (() -> Bool)?) -> Bool {
        let c = config
        let n = rows.count
        precondition(n >= 1 && n <= rowCapacity, "a batch of \(n) rows (capacity \(rowCapacity))")
        let dim = c.dim, kvDim = c.kvDim, hidden = c.hiddenDim, headSize = c.headSize
        let kvMul = c.heads / c.kvHeads
        let pairs = c.ropeDimensions / 2
        for (r, row) in rows.enumerated() {
            precondition(row.position >= 0 && row.position < row.cache.capacity, "position \(row.position) outside the cache")
            // Embedding row (dequantized if quantized).
            weights.tokenEmbeddings.copyRow(Int(row.token), into: x + r * dim)
            // RoPE angles of this row's position, shared by every head and layer.
            for j in 0..<pairs {
                let angle = Float(row.position) * inverseFrequencies[j]
                ropeCos[r * pairs + j] = cosf(angle)
                ropeSin[r * pairs + j] = sinf(angle)
            }
        }
        let epsilon = c.rmsEpsilon
        let x = self.x, xb = self.xb, xb2 = self.xb2, q = self.q, hb = self.hb, hb2 = self.hb2
        let newKeys = self.newKeys, newValues = self.newValues

        for (l, layer) in weights.layers.enumerated() {
            if let shouldStop, shouldStop() { return false }
            guard case .float32(let attentionNorm) = layer.attentionNorm.storage,
                  case .float32(let ffnNorm) = layer.ffnNorm.storage else { preconditionFailure("norms are fp32") }
            // q, k, v in one parallel region over their concatenated rows, of the normalized x.
            product(
                x, stride: dim, columns: n, normalizedBy: attentionNorm, epsilon: epsilon, into: xb, for: [layer.wq, layer.wk, layer.wv], slot: 0,
                pool: pool, outputs: dim + 2 * kvDim, costPerItem: dim * n
            ) { input, range in
                let qRows = range.clamped(to: 0..<dim)
                if !qRows.isEmpty { Self.multiply(layer.wq, input, q + qRows.lowerBound, outStride: dim, rows: qRows) }
                let kRows = range.clamped(to: dim..<(dim + kvDim))
                if !kRows.isEmpty {
                    let r = (kRows.lowerBound - dim)..<(kRows.upperBound - dim)
                    Self.multiply(layer.wk, input, newKeys + r.lowerBound, outStride: kvDim, rows: r)
                }
                let vRows = range.clamped(to: (dim + kvDim)..<(dim + 2 * kvDim))
                if !vRows.isEmpty {
                    let r = (vRows.lowerBound - dim - kvDim)..<(vRows.upperBound - dim - kvDim)
                    Self.multiply(layer.wv, input, newValues + r.lowerBound, outStride: kvDim, rows: r)
                }
            }

            // RoPE: adjacent pairs (2j, 2j+1) of each head's first ropeDimensions values rotate by
            // position * inverseFrequencies[j] (llama2.c; GGUF's llama convention). Then the
            // row's key and value go to its sequence's cache (rows on the pool: each writes only
            // its own position).
            pool.parallelFor(n, costPerItem: Self.quantizeCost * (dim + 2 * kvDim)) { range in
                for r in range {
                    let row = rows[r]
                    let qr = q + r * dim, kr = newKeys + r * kvDim
                    let cosines = ropeCos + r * pairs, sines = ropeSin + r * pairs
                    var head = 0
                    while head < dim {
                        var j = 0
                        while j < c.ropeDimensions {
                            let fcr = cosines[j >> 1], fci = sines[j >> 1]
                            let i = head + j
                            let v0 = qr[i], v1 = qr[i + 1]
                            qr[i] = v0 * fcr - v1 * fci
                            qr[i + 1] = v0 * fci + v1 * fcr
                            if i < kvDim {
                                let k0 = kr[i], k1 = kr[i + 1]
                                kr[i] = k0 * fcr - k1 * fci
                                kr[i + 1] = k0 * fci + k1 * fcr
                            }
                            j += 2
                        }
                        head += headSize
                    }
                    row.cache.store(keys: kr, values: newValues + r * kvDim, layer: l, position: row.position)
                }
            }

            // Multi-head attention: (row, key head) tasks dealt out to the workers in turn, each row
            // over its own cache, the kvMul query heads that share a key head together (each cached
            // key and value is converted once for all of them). Dealt, not split into contiguous
            // halves: a prefill chunk's rows are in position order and a row's cost grows with its
            // position, so halves left the worker with the later rows about three times the other's
            // work (64-row chunk from 0).
            let scale = 1 / Float(headSize).squareRoot()
            let heads = c.heads
            let groupSize = attentionGroupSize
            let tasks = n * (heads / groupSize)
            let scores = self.scores, seqLen = c.seqLen
            var cost = 0
            for row in rows { cost += 2 * (row.position + 1) * headSize * heads }
            let next = Atomic<Int>(0)
            let attend = { (worker: Int, workers: Int) in
                let scoresRow = scores + worker * groupSize * seqLen
                while true {
                    let task = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if task >= tasks { break }
                    let r = task / (tasks / n), group = task % (tasks / n)
                    let row = rows[r]
                    let firstHead = group * groupSize
                    let qh = UnsafePointer(q + r * dim + firstHead * headSize)
                    let kvOffset = (firstHead / kvMul) * headSize
                    let cache = row.cache
                    cache.dotKeys(
                        layer: l, through: row.position, offset: kvOffset, queries: qh, heads: groupSize, count: headSize, scale: scale,
                        into: scoresRow, stride: seqLen)
                    for h in 0..<groupSize { VectorMath.softmax(scoresRow + h * seqLen, count: row.position + 1) }
                    let out = xb + r * dim + firstHead * headSize
                    for j in 0..<(groupSize * headSize) { out[j] = 0 }
                    cache.addValues(
                        layer: l, through: row.position, offset: kvOffset, weights: scoresRow, stride: seqLen, heads: groupSize, count: headSize,
                        into: out)
                }
            }
            if cost < WorkerPool.minimumParallelCost { attend(0, 1) } else { pool.run(attend) }

            // Output projection and residual.
            product(xb, stride: dim, columns: n, for: [layer.wo], slot: 1, pool: pool, outputs: dim, costPerItem: dim * n) { attentionOut, range in
                Self.multiply(layer.wo, attentionOut, xb2 + range.lowerBound, outStride: dim, rows: range)
            }
            for i in 0..<(n * dim) { x[i] += xb2[i] }
            // Asked again before the feed-forward half: a cancel waits at most half a layer.
            if let shouldStop, shouldStop() { return false }

            // SwiGLU feed-forward: hb = silu(w1·xb) * (w3·xb); x += w2·hb.
            product(
                x, stride: dim, columns: n, normalizedBy: ffnNorm, epsilon: epsilon, into: xb, for: [layer.w1, layer.w3], slot: 0, pool: pool,
                outputs: hidden, costPerItem: 2 * dim * n
            ) { ffnIn, range in
                Self.multiply(layer.w1, ffnIn, hb + range.lowerBound, outStride: hidden, rows: range)
                Self.multiply(layer.w3, ffnIn, hb2 + range.lowerBound, outStride: hidden, rows: range)
                for r in 0..<n {
                    let offset = r * hidden + range.lowerBound
                    VectorMath.swiGLU(hb + offset, hb2 + offset, count: range.count)
                }
            }
            product(hb, stride: hidden, columns: n, for: [layer.w2], slot: 1, pool: pool, outputs: dim, costPerItem: hidden * n) { downIn, range in
                Self.multiply(layer.w2, downIn, xb + range.lowerBound, outStride: dim, rows: range)
            }
            for i in 0..<(n * dim) { x[i] += xb[i] }
        }

        // Logits of the rows that want them, up to logitRowCapacity at a time.
        guard case .float32(let finalNorm) = weights.finalNorm.storage else { preconditionFailure("norms are fp32") }
        let wanted = rows.indices.filter { rows[$0].logits != nil }
        var start = 0
        while start < wanted.count {
            let group = Array(wanted[start..<min(wanted.count, start + logitRowCapacity)])
            for (g, r) in group.enumerated() { VectorMath.rmsNorm(xb + g * dim, x + r * dim, finalNorm, count: dim, epsilon: epsilon) }
            let classifier = weights.classifier
            let input = prepare(xb, stride: dim, columns: group.count, for: [classifier], slot: 0, pool: pool)
            // One row: straight into its destination; several: through logitRows.
            let out = group.count == 1 ? rows[group[0]].logits! : logitRows
            let vocab = c.vocab
            pool.parallelFor(vocab, grain: 16, costPerItem: dim * group.count) { range in
                Self.multiply(classifier, input, out + range.lowerBound, outStride: vocab, rows: range)
            }
            if group.count > 1 {
                for (g, r) in group.enumerated() { rows[r].logits!.update(from: logitRows + g * vocab, count: vocab) }
            }
            start += group.count
        }
        return true
    }
}
