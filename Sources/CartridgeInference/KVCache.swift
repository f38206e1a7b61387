import CartridgeGGML
#if canImport(Glibc)
import Glibc
#endif

/// The keys and values of one sequence: [layers, capacity] rows of `kvDim` each, as
/// `LlamaConfig.kvCacheType` says: fp32; q16 (kvDim int16 quants then kvDim / 32 fp32 block
/// scales per row: 53 % of fp32's memory, close to its accuracy); or fp16 (half the memory, as
/// llama.cpp's default cache, 2-4x fp32's logit error; docs/PERFORMANCE.md). Pages are
/// allocated by the kernel only as positions fill (calloc of a large block maps fresh zero
/// pages), so a short conversation costs its positions, not the whole context.
///
/// `@unchecked Sendable`: not thread-safe itself; its users take turns: the session that owns
/// it (under the session's lock), the decoder while a batch that includes the session runs, and
/// the prefix cache's copies (entries are written once, when made, and only read after).
final class KVCache: @unchecked Sendable {
    let keys, values: UnsafeMutableRawPointer
    let layers, capacity, kvDim: Int
    let type: KVCacheType
    /// Bytes of one position's keys (or values) in one layer.
    let rowBytes: Int

    /// A cache for `capacity` positions (default: the whole context).
    init(config: LlamaConfig, capacity: Int? = nil) {
        layers = config.layers
        self.capacity = max(1, min(capacity ?? config.seqLen, config.seqLen))
        kvDim = config.kvDim
        type = config.kvCacheType
        rowBytes = config.kvCacheRowBytes
        let count = max(1, layers * self.capacity)
        keys = calloc(count, rowBytes)!
        values = calloc(count, rowBytes)!
    }

    deinit {
        free(keys)
        free(values)
    }

    /// Bytes if every position is used.
    var capacityBytes: Int { 2 * layers * capacity * rowBytes }

    /// Bytes that `positions` positions of a model with `config` occupy.
    static func bytes(config: LlamaConfig, positions: Int) -> Int { 2 * config.layers * positions * config.kvCacheRowBytes }

    /// Start of layer `layer`'s keys (values: `valueRow`) at `position`: one row.
    @inline(__always)
    func keyRow(layer: Int, position: Int) -> UnsafeMutableRawPointer { keys + (layer &* capacity &+ position) &* rowBytes }

    @inline(__always)
    func valueRow(layer: Int, position: Int) -> UnsafeMutableRawPointer { values + (layer &* capacity &+ position) &* rowBytes }

    /// Stores one position's `kvDim` keys and values (rounded to the cache's type).
    @inline(__always)
    func store(keys key: UnsafePointer<Float>, values value: UnsafePointer<Float>, layer: Int, position: Int) {
        let k = keyRow(layer: layer, position: position), v = valueRow(layer: layer, position: position)
        switch type {
        case .f32:
            k.copyMemory(from: key, byteCount: rowBytes)
            v.copyMemory(from: value, byteCount: rowBytes)
        case .f16:
            GGMLKernels.storeHalf(key, count: kvDim, into: k)
            GGMLKernels.storeHalf(value, count: kvDim, into: v)
        case .q16:
            GGMLKernels.quantizeInt16Blocks(key, count: kvDim, quants: quants(k, offset: 0), scales: scales(k, offset: 0))
            GGMLKernels.quantizeInt16Blocks(value, count: kvDim, quants: quants(v, offset: 0), scales: scales(v, offset: 0))
        }
    }

    /// `x` · key elements `offset..<offset+count` of `position` (q16: offset and count multiples
    /// of 32, as head boundaries are when the config validated; fp32: `VectorMath.dot`, as before
    /// the other types, so llama2.c checkpoints keep their run.c-identical tokens).
    @inline(__always)
    func dotKey(layer: Int, position: Int, offset: Int, _ x: UnsafePointer<Float>, count: Int) -> Float {
        let row = keyRow(layer: layer, position: position)
        switch type {
        case .f32: return VectorMath.dot(UnsafeRawPointer(x), row + offset &* 4, count: count)
        case .f16: return GGMLKernels.dot(.f16, row: row + offset &* 2, floats: x, count: count)
        case .q16:
            return GGMLKernels.dotInt16Blocks(quants(row, offset: offset), scales(row, offset: offset), x, count: count)
        }
    }

    /// out[j] += weight · value[offset + j] of `position`, for j in 0..<count (q16: as `dotKey`).
    @inline(__always)
    func addValue(layer: Int, position: Int, offset: Int, weight: Float, count: Int, into out: UnsafeMutablePointer<Float>) {
        let row = valueRow(layer: layer, position: position)
        switch type {
        case .f32:
            let v = (row + offset &* 4).assumingMemoryBound(to: Float.self)
            for j in 0..<count { out[j] += weight * v[j] }
        case .f16:
            GGMLKernels.addScaledHalf(row + offset &* 2, weight, count: count, into: out)
        case .q16:
            GGMLKernels.addScaledInt16Blocks(quants(row, offset: offset), scales(row, offset: offset), weight, count: count, into: out)
        }
    }

    /// Grouped-query attention scores: scores[h · stride + t] = scale · (query h · key t at
    /// `offset`) for t in 0...last and the `heads` query heads (1...4) that share this key head
    /// (queries[h · count ..< (h + 1) · count]). q16 converts each key once for all of them; the
    /// values equal `dotKey`'s.
    func dotKeys(
        layer: Int, through last: Int, offset: Int, queries: UnsafePointer<Float>, heads: Int, count: Int, scale: Float,
        into scores: UnsafeMutablePointer<Float>, stride: Int
    ) {
        if type == .q16 {
            for t in 0...last {
                let row = keyRow(layer: layer, position: t)
                GGMLKernels.dotInt16Blocks(
                    quants(row, offset: offset), scales(row, offset: offset), queries: queries, heads: heads, count: count, scale: scale,
                    into: scores + t, stride: stride)
            }
            return
        }
        for h in 0..<heads {
            for t in 0...last {
                scores[h &* stride &+ t] = dotKey(layer: layer, position: t, offset: offset, queries + h &* count, count: count) * scale
            }
        }
    }

    /// Grouped-query attention output: out[h · count + j] += weights[h · stride + t] · value t
    /// [offset + j] for t in 0...last, j in 0..<count and the `heads` query heads (1...4) that
    /// share this value head; each head in `addValue`'s order.
    func addValues(
        layer: Int, through last: Int, offset: Int, weights: UnsafePointer<Float>, stride: Int, heads: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        if type == .q16 {
            // All positions in one call: the heads' sums stay in registers (the same values).
            let row = valueRow(layer: layer, position: 0)
            GGMLKernels.addScaledInt16Rows(
                quants: quants(row, offset: offset), scales: scales(row, offset: offset), rowBytes: rowBytes, positions: last + 1,
                weights: weights, stride: stride, heads: heads, count: count, into: out)
            return
        }
        for h in 0..<heads {
            for t in 0...last {
                addValue(layer: layer, position: t, offset: offset, weight: weights[h &* stride &+ t], count: count, into: out + h &* count)
            }
        }
    }

    /// A q16 row's quants from element `offset` on (the row starts with its kvDim int16 quants).
    @inline(__always)
    private func quants(_ row: UnsafeMutableRawPointer, offset: Int) -> UnsafeMutablePointer<Int16> {
        (row + offset &* 2).assumingMemoryBound(to: Int16.self)
    }

    /// A q16 row's block scales from element `offset` on (a multiple of 32; they follow the quants).
    @inline(__always)
    private func scales(_ row: UnsafeMutableRawPointer, offset: Int) -> UnsafeMutablePointer<Float> {
        (row + (kvDim &* 2 &+ offset / 32 &* 4)).assumingMemoryBound(to: Float.self)
    }

    /// Gives the memory of every position back to the kernel (the pages read as zero again when
    /// touched). The contents are gone: the owner forgets its history with it.
    func releaseMemory() {
        let page = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        let length = layers * capacity * rowBytes
        for base in [keys, values] {
            let start = (Int(bitPattern: base) + page - 1) / page * page
            let end = (Int(bitPattern: base) + length) / page * page
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
        }
    }

    /// Copies positions 0..<count of every layer from `other` (a prefix-cache hit).
    func copyPrefix(from other: KVCache, count: Int) {
        precondition(count <= capacity && count <= other.capacity && other.kvDim == kvDim && other.layers == layers && other.type == type)
        for layer in 0..<layers {
            keyRow(layer: layer, position: 0).copyMemory(from: other.keyRow(layer: layer, position: 0), byteCount: count * rowBytes)
            valueRow(layer: layer, position: 0).copyMemory(from: other.valueRow(layer: layer, position: 0), byteCount: count * rowBytes)
        }
    }
}
