/// Splits literal special-token texts out of the input before pre-tokenization, as llama.cpp's
/// `tokenizer_st_partition`: the tokens are tried longest first (by UTF-8 length, then lowest id),
/// each one splitting every text fragment left so far at all its non-overlapping occurrences.
struct SpecialTokenSplitter: Sendable {
    enum Fragment: Equatable {
        case token(Int32)
        case text(Range<Int>)
    }

    private struct Candidate: Sendable {
        var id: Int32
        var scalars: [Unicode.Scalar]
        /// Split even without parse_special (user-defined tokens, as llama.cpp and `tokenizers` do).
        var alwaysSplit: Bool
    }

    /// In llama.cpp's order: longest first.
    private let candidates: [Candidate]
    /// Candidate indices by first scalar value.
    private let candidatesByFirstScalar: [UInt32: [Int]]

    /// `tokens`: (id, text, split even without parse_special).
    init(tokens: [(id: Int32, text: String, alwaysSplit: Bool)]) {
        let sorted = tokens.filter { !$0.text.isEmpty }.sorted {
            ($0.text.utf8.count, -Int($0.id)) > ($1.text.utf8.count, -Int($1.id))
        }
        candidates = sorted.map { Candidate(id: $0.id, scalars: Array($0.text.unicodeScalars), alwaysSplit: $0.alwaysSplit) }
        var index: [UInt32: [Int]] = [:]
        for (position, candidate) in candidates.enumerated() { index[candidate.scalars[0].value, default: []].append(position) }
        candidatesByFirstScalar = index
    }

    var isEmpty: Bool { candidates.isEmpty }

    /// The fragments of `scalars`: special tokens and the text ranges between them.
    func split(_ scalars: [Unicode.Scalar], parseSpecial: Bool) -> [Fragment] {
        let whole: [Fragment] = scalars.isEmpty ? [] : [.text(0..<scalars.count)]
        guard !candidates.isEmpty else { return whole }
        // Which tokens occur at all (one pass); usually none, and then the text is one fragment.
        var occurring = Set<Int>()
        for position in scalars.indices {
            guard let list = candidatesByFirstScalar[scalars[position].value] else { continue }
            for candidate in list where !occurring.contains(candidate)
                && (parseSpecial || candidates[candidate].alwaysSplit)
                && Self.matches(candidates[candidate].scalars, scalars, at: position, end: scalars.count)
            {
                occurring.insert(candidate)
            }
        }
        guard !occurring.isEmpty else { return whole }
        var fragments = whole
        for candidate in occurring.sorted() {
            let pattern = candidates[candidate].scalars
            var split: [Fragment] = []
            split.reserveCapacity(fragments.count + 2)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    split.append(fragment)
                    continue
                }
                var start = range.lowerBound
                var position = range.lowerBound
                while position + pattern.count <= range.upperBound {
                    if Self.matches(pattern, scalars, at: position, end: range.upperBound) {
                        if start < position { split.append(.text(start..<position)) }
                        split.append(.token(candidates[candidate].id))
                        position += pattern.count
                        start = position
                    } else {
                        position += 1
                    }
                }
                if start < range.upperBound { split.append(.text(start..<range.upperBound)) }
            }
            fragments = split
        }
        return fragments
    }

    private static func matches(_ pattern: [Unicode.Scalar], _ scalars: [Unicode.Scalar], at position: Int, end: Int) -> Bool {
        guard end - position >= pattern.count else { return false }
        for offset in pattern.indices where scalars[position + offset] != pattern[offset] { return false }
        return true
    }
}
