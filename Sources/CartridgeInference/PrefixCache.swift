/// Keys and values of recent prompts, kept after their requests end, so a new prompt that starts
/// the same way (a system prompt, the earlier turns of a conversation) copies those positions
/// instead of computing them again. Keyed by token ids; bounded in bytes, least recently used
/// entries evicted first. Not thread-safe: `GenerationScheduler` keeps it under its lock.
struct PrefixCache {
    struct Entry {
        let tokens: [Int32]
        let cache: KVCache
        var lastUse: Int
    }

    /// The most bytes of keys and values kept (0 disables the cache).
    var capacityBytes: Int
    /// Prompts shorter than this are not worth an entry.
    let minimumTokens: Int
    private(set) var entries: [Entry] = []
    private var clock = 0

    init(capacityBytes: Int, minimumTokens: Int = 16) {
        self.capacityBytes = max(0, capacityBytes)
        self.minimumTokens = max(1, minimumTokens)
    }

    var bytes: Int { entries.reduce(0) { $0 + $1.cache.capacityBytes } }

    /// The entry sharing the longest prefix with `prompt` (at most `limit` tokens, and at least
    /// `minimumTokens`), and that length.
    mutating func longestPrefix(of prompt: [Int32], limit: Int) -> (cache: KVCache, count: Int)? {
        var best: (index: Int, count: Int)?
        for (index, entry) in entries.enumerated() {
            var common = 0
            let bound = min(entry.tokens.count, prompt.count, limit)
            while common < bound, entry.tokens[common] == prompt[common] { common += 1 }
            if common >= minimumTokens, common > (best?.count ?? 0) { best = (index, common) }
        }
        guard let best else { return nil }
        clock += 1
        entries[best.index].lastUse = clock
        return (entries[best.index].cache, best.count)
    }

    /// Keeps positions 0..<tokens.count of `source` under `tokens`, unless an entry already
    /// covers them or they do not fit; evicts least recently used entries to make room.
    mutating func insert(_ tokens: [Int32], from source: KVCache, config: LlamaConfig) {
        guard tokens.count >= minimumTokens else { return }
        for entry in entries where entry.tokens.count >= tokens.count && entry.tokens.starts(with: tokens) { return }
        let size = KVCache.bytes(config: config, positions: tokens.count)
        guard size <= capacityBytes else { return }
        // Entries that the new one extends are superseded by it.
        entries.removeAll { tokens.starts(with: $0.tokens) }
        while bytes + size > capacityBytes, let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            entries.remove(at: oldest)
        }
        let copy = KVCache(config: config, capacity: tokens.count)
        copy.copyPrefix(from: source, count: tokens.count)
        clock += 1
        entries.append(Entry(tokens: tokens, cache: copy, lastUse: clock))
    }

    /// Drops least recently used entries until at most `bytes` remain.
    mutating func shrink(to bytes: Int) {
        while self.bytes > max(0, bytes), let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            entries.remove(at: oldest)
        }
    }
}
