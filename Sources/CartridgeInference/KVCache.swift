#if canImport(Glibc)
import Glibc
#endif

/// The keys and values of one sequence: [layers, capacity, kvDim] fp32 each. Pages are
/// allocated by the kernel only as positions fill (calloc of a large block maps fresh zero
/// pages), so a short conversation costs its positions, not the whole context.
///
/// `@unchecked Sendable`: not thread-safe itself; its users take turns: the session that owns
/// it (under the session's lock), the decoder while a batch that includes the session runs, and
/// the prefix cache's copies (entries are written once, when made, and only read after).
final class KVCache: @unchecked Sendable {
    let keys, values: UnsafeMutablePointer<Float>
    let layers, capacity, kvDim: Int

    /// A cache for `capacity` positions (default: the whole context).
    init(config: LlamaConfig, capacity: Int? = nil) {
        layers = config.layers
        self.capacity = max(1, min(capacity ?? config.seqLen, config.seqLen))
        kvDim = config.kvDim
        let count = max(1, layers * self.capacity * kvDim)
        keys = calloc(count, 4)!.assumingMemoryBound(to: Float.self)
        values = calloc(count, 4)!.assumingMemoryBound(to: Float.self)
    }

    deinit {
        free(keys)
        free(values)
    }

    /// Bytes if every position is used.
    var capacityBytes: Int { 2 * layers * capacity * kvDim * 4 }

    /// Bytes that `positions` positions of a model with `config` occupy.
    static func bytes(config: LlamaConfig, positions: Int) -> Int { 2 * config.layers * positions * config.kvDim * 4 }

    /// Start of layer `layer`'s keys (values: `valueRow`) at `position`.
    @inline(__always)
    func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float> { keys + (layer &* capacity &+ position) &* kvDim }

    @inline(__always)
    func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float> { values + (layer &* capacity &+ position) &* kvDim }

    /// Gives the memory of every position back to the kernel (the pages read as zero again when
    /// touched). The contents are gone: the owner forgets its history with it.
    func releaseMemory() {
        let page = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        let length = layers * capacity * kvDim * 4
        for base in [UnsafeMutableRawPointer(keys), UnsafeMutableRawPointer(values)] {
            let start = (Int(bitPattern: base) + page - 1) / page * page
            let end = (Int(bitPattern: base) + length) / page * page
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
        }
    }

    /// Copies positions 0..<count of every layer from `other` (a prefix-cache hit).
    func copyPrefix(from other: KVCache, count: Int) {
        precondition(count <= capacity && count <= other.capacity && other.kvDim == kvDim && other.layers == layers)
        for layer in 0..<layers {
            keyRow(layer: layer, position: 0).update(from: other.keyRow(layer: layer, position: 0), count: count * kvDim)
            valueRow(layer: layer, position: 0).update(from: other.valueRow(layer: layer, position: 0), count: count * kvDim)
        }
    }
}
