/// Byte-level BPE (GGUF `tokenizer.ggml.model = "gpt2"`) as GPT-2 and Hugging Face `tokenizers` do
/// it: special tokens are split out first (see `encode`), the rest is cut into words by the
/// model's `PreTokenizer`, each word's UTF-8 bytes become GPT-2 byte-alphabet tokens ("Ġ" for a
/// space), and the merges (lowest rank first, no dropout) join them.
///
/// Built from the GGUF arrays `tokenizer.ggml.tokens`, `token_type` and `merges`. Merge rules are
/// keyed by the pair of token ids; each word is merged through a priority queue, and words already
/// seen are answered from a bounded cache shared by all copies of the tokenizer.
public struct ByteLevelBPETokenizer: TextTokenizer {
    /// The vocabulary texts in the byte-level alphabet (special tokens as written).
    public let tokens: [String]
    /// Each token's type (from `tokenizer.ggml.token_type`, normal when absent; tokens that end a
    /// generation by their text are control tokens, as in llama.cpp).
    public let tokenTypes: [TokenType]
    public let preTokenizer: PreTokenizer
    public let bosID: Int32?
    public let eosID: Int32?
    /// `tokenizer.ggml.eot_token_id`.
    public let eotID: Int32?
    public let unknownID: Int32?
    /// Whether `encode(_:addSpecial: true, ...)` prepends BOS / appends EOS.
    public let addBOS: Bool
    public let addEOS: Bool
    public let endOfGenerationIDs: Set<Int32>

    private let table: TokenTable
    /// The bytes each token decodes to, flat, token `id` at `pieceOffsets[id]..<pieceOffsets[id + 1]`.
    private let pieceBytes: [UInt8]
    private let pieceOffsets: [Int]
    /// The token of each byte's alphabet character, -1 when the vocabulary lacks it.
    private let byteIDs: [Int32]
    private let merges: BytePairMerges
    private let splitter: SpecialTokenSplitter
    private let cache: WordCache

    public var vocabularySize: Int { tokens.count }

    /// The number of merge rules in use (rules whose tokens are not in the vocabulary are dropped:
    /// with id-keyed rules they could never apply).
    public var mergeCount: Int { merges.count }

    /// Token texts that end a generation wherever they occur (llama.cpp's `special_eog_ids` list).
    public static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
    ]

    /// Longer words are not cached (they are rare, and would make the bounded cache large in bytes).
    private static let longestCachedWord = 256

    private static let longestEndOfGenerationText = endOfGenerationTexts.map(\.utf8.count).max() ?? 0

    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`.
    ///   - tokenTypes: `tokenizer.ggml.token_type` (same count), or nil when the file has none.
    ///   - merges: `tokenizer.ggml.merges`, "left right" in rank order.
    ///   - preTokenizer: `tokenizer.ggml.pre` (see `PreTokenizer.knownNames`).
    ///   - bosID, eosID, eotID, unknownID: `tokenizer.ggml.{bos,eos,eot,unknown}_token_id`.
    ///   - addBOS, addEOS: `tokenizer.ggml.add_bos_token` / `add_eos_token`.
    public init(
        tokens: [String], tokenTypes: [Int32]?, merges: [String], preTokenizer: String,
        bosID: Int32?, eosID: Int32?, eotID: Int32?, unknownID: Int32?, addBOS: Bool, addEOS: Bool
    ) throws(TokenizerError) {
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw TokenizerError(.malformedVocabulary, "the vocabulary has \(tokens.count) tokens (needs 1...\(Int32.max - 1))")
        }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw TokenizerError(.malformedVocabulary, "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        for (name, id) in [("bos", bosID), ("eos", eosID), ("eot", eotID), ("unknown", unknownID)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw TokenizerError(
                    .invalidSpecialTokenID, "\(name) token id \(id) is outside the vocabulary 0..<\(tokens.count)", index: Int(id))
            }
        }
        self.preTokenizer = try PreTokenizer(name: preTokenizer)

        var types = tokenTypes.map { $0.map(TokenType.init(rawValue:)) } ?? Array(repeating: .normal, count: tokens.count)
        if tokenTypes == nil {
            for id in [bosID, eosID, eotID, unknownID].compactMap({ $0 }) { types[Int(id)] = .control }
        }
        let table = TokenTable(tokens)
        var endOfGeneration = Set([eosID, eotID].compactMap { $0 })
        for (id, text) in tokens.enumerated() where text.utf8.count <= Self.longestEndOfGenerationText {
            if Self.endOfGenerationTexts.contains(text) {
                endOfGeneration.insert(Int32(id))
                if types[id] != .userDefined { types[id] = .control }
            }
        }

        var pieceBytes: [UInt8] = []
        var pieceOffsets = [0]
        pieceOffsets.reserveCapacity(tokens.count + 1)
        for (id, text) in tokens.enumerated() {
            switch types[id] {
            case .control, .unknown, .userDefined, .unused: pieceBytes += text.utf8
            // Not in the byte alphabet (e.g. an added token typed normal): its own UTF-8, as `tokenizers` does.
            default: if !ByteLevelAlphabet.appendDecoded(text, to: &pieceBytes) { pieceBytes += text.utf8 }
            }
            pieceOffsets.append(pieceBytes.count)
        }

        var byteIDs = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            byteIDs[byte] = table.id(ByteLevelAlphabet.encode([UInt8(byte)])) ?? -1
        }

        var rules = BytePairMerges(minimumCapacity: merges.count)
        var joined: [UInt8] = []
        for (rank, merge) in merges.enumerated() {
            var merge = merge
            let rule: (Int32, Int32, Int32)?? = merge.withUTF8 { bytes in
                // llama.cpp: the separator is the first space after the first byte.
                guard bytes.count >= 3, let space = bytes.dropFirst().firstIndex(of: 0x20), space + 1 < bytes.count else {
                    return .none
                }
                let left = UnsafeBufferPointer(rebasing: bytes[..<space])
                let right = UnsafeBufferPointer(rebasing: bytes[(space + 1)...])
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left)
                joined.append(contentsOf: right)
                guard let leftID = table.id(left), let rightID = table.id(right), let mergedID = table.id(joined) else {
                    return .some(nil)
                }
                return (leftID, rightID, mergedID)
            }
            guard let rule else {
                throw TokenizerError(.malformedMerges, "merge \(rank) \"\(merge)\" is not \"left right\"", index: rank)
            }
            if let (left, right, merged) = rule { rules.add(left: left, right: right, merged: merged, rank: rank) }
        }

        var specials: [(id: Int32, text: String, alwaysSplit: Bool)] = []
        for (id, text) in tokens.enumerated() {
            switch types[id] {
            case .control, .unknown: specials.append((Int32(id), text, false))
            case .userDefined: specials.append((Int32(id), text, true))
            default: break
            }
        }

        self.tokens = tokens
        self.tokenTypes = types
        self.bosID = bosID
        self.eosID = eosID
        self.eotID = eotID
        self.unknownID = unknownID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.endOfGenerationIDs = endOfGeneration
        self.table = table
        self.pieceBytes = pieceBytes
        self.pieceOffsets = pieceOffsets
        self.byteIDs = byteIDs
        self.merges = rules
        self.splitter = SpecialTokenSplitter(tokens: specials)
        self.cache = WordCache(capacity: 1 << 16)
    }

    /// Ids for `text`. With `parseSpecial`, control and unknown-type token texts in `text` are
    /// split out first, longest first (llama.cpp's `tokenizer_st_partition`); user-defined tokens
    /// are split out always (as llama.cpp and `tokenizers` do). The fragments between them are
    /// pre-tokenized and BPE-encoded. `addSpecial` adds BOS/EOS per `addBOS`/`addEOS`.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial, addBOS, let bosID { ids.append(bosID) }
        let classified = ClassifiedText(text)
        var word: [UInt8] = []
        for fragment in splitter.split(classified.scalars, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                preTokenizer.forEachPiece(of: classified, in: range) { piece in
                    word.removeAll(keepingCapacity: true)
                    classified.appendUTF8(of: piece, to: &word)
                    encodeWord(word, into: &ids)
                }
            }
        }
        if addSpecial, addEOS, let eosID { ids.append(eosID) }
        return ids
    }

    /// BPE for one pre-tokenizer piece (its UTF-8 bytes).
    private func encodeWord(_ word: [UInt8], into ids: inout [Int32]) {
        if let cached = cache.ids(for: word) {
            ids += cached
            return
        }
        if preTokenizer.ignoresMerges, let id = table.id(ByteLevelAlphabet.encode(word)) {
            ids.append(id)
            return
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        // A byte whose alphabet character is not a token is dropped, as `tokenizers` (without an
        // unknown token) and llama.cpp do: SmolLM2, for one, lacks 21 of the 256.
        for byte in word where byteIDs[Int(byte)] >= 0 { symbols.append(byteIDs[Int(byte)]) }
        merges.apply(to: &symbols)
        if word.count <= Self.longestCachedWord { cache.store(symbols, for: word) }
        ids += symbols
    }

    public func bytes(for id: Int32, renderSpecial: Bool) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        switch tokenTypes[Int(id)] {
        case .control, .unknown: guard renderSpecial else { return [] }
        case .unused: return []
        default: break
        }
        return Array(pieceBytes[pieceOffsets[Int(id)]..<pieceOffsets[Int(id) + 1]])
    }

    public func id(forToken text: String) -> Int32? {
        table.id(text)
    }
}
