/// BPE merge rules keyed by the pair of token ids, and the merge loop of Hugging Face `tokenizers`
/// (`Word::merge_all`): repeatedly merge the adjacent pair with the lowest rank, the leftmost one
/// among equal ranks, until no adjacent pair has a rule.
struct BytePairMerges: Sendable {
    /// (left id << 32 | right id) -> (rank << 32 | merged id).
    private var rules: [UInt64: UInt64] = [:]

    var count: Int { rules.count }

    init(minimumCapacity: Int = 0) {
        rules.reserveCapacity(minimumCapacity)
    }

    /// Adds `left right -> merged` with `rank`; an earlier rule for the same pair is kept.
    mutating func add(left: Int32, right: Int32, merged: Int32, rank: Int) {
        let key = Self.key(left, right)
        if rules[key] == nil { rules[key] = UInt64(UInt32(truncatingIfNeeded: rank)) << 32 | UInt64(UInt32(bitPattern: merged)) }
    }

    /// The rule for the pair, as (rank, merged id).
    @inline(__always)
    func rule(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        guard let value = rules[Self.key(left, right)] else { return nil }
        return (UInt32(truncatingIfNeeded: value >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Queue order: lowest rank first, then leftmost.
    @inline(__always)
    private static func order(_ rank: UInt32, _ position: Int) -> UInt64 {
        UInt64(rank) << 32 | UInt64(UInt32(truncatingIfNeeded: position))
    }

    /// Merges `symbols` in place.
    func apply(to symbols: inout [Int32]) {
        let count = symbols.count
        guard count > 1 else { return }
        if count == 2 {
            if let rule = rule(symbols[0], symbols[1]) { symbols = [rule.merged] }
            return
        }
        // A doubly linked list over the symbols; a merged-away symbol gets `alive` false.
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index + 1) }
            buffer[count - 1] = -1
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index - 1) }
            initialized = count
        }
        var alive = [Bool](repeating: true, count: count)
        var queue = MergeQueue()
        for position in 0..<count - 1 {
            if let rule = rule(symbols[position], symbols[position + 1]) {
                queue.push(order: Self.order(rule.rank, position), payload: UInt64(UInt32(bitPattern: rule.merged)))
            }
        }
        while let top = queue.pop() {
            let position = Int(truncatingIfNeeded: top.order & 0xFFFF_FFFF)
            let merged = Int32(bitPattern: UInt32(truncatingIfNeeded: top.payload))
            guard alive[position], next[position] >= 0 else { continue }
            let right = Int(next[position])
            // A stale entry: the pair at `position` changed since it was queued.
            guard let rule = rule(symbols[position], symbols[right]), rule.merged == merged else { continue }
            symbols[position] = merged
            alive[right] = false
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[Int(afterRight)] = Int32(position) }
            let before = previous[position]
            if before >= 0, let rule = self.rule(symbols[Int(before)], merged) {
                queue.push(order: Self.order(rule.rank, Int(before)), payload: UInt64(UInt32(bitPattern: rule.merged)))
            }
            if afterRight >= 0, let rule = self.rule(merged, symbols[Int(afterRight)]) {
                queue.push(order: Self.order(rule.rank, position), payload: UInt64(UInt32(bitPattern: rule.merged)))
            }
        }
        var write = 0
        for read in 0..<count where alive[read] {
            symbols[write] = symbols[read]
            write += 1
        }
        symbols.removeSubrange(write...)
    }
}
