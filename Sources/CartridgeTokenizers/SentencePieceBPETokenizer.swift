/// SentencePiece-style BPE with scores (GGUF `tokenizer.ggml.model = "llama"`, the Llama 2 family),
/// as llama.cpp's `llm_tokenizer_spm` does it: spaces become "▁" (U+2581), a "▁" is prefixed to
/// the text and after each special token (`add_space_prefix`), every character starts as a
/// symbol, the adjacent pair whose concatenation is the highest-scoring token merges first (the
/// leftmost among equal scores), and characters that never became a token fall back to the byte
/// tokens `<0xNN>`. Literal special tokens are split out first as in `ByteLevelBPETokenizer`.
public struct SentencePieceBPETokenizer: TextTokenizer {
    /// The vocabulary texts ("▁the", "<0x0A>", "<s>").
    public let tokens: [String]
    public let scores: [Float]
    public let tokenTypes: [TokenType]
    public let bosID: Int32?
    public let eosID: Int32?
    public let eotID: Int32?
    public let unknownID: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    /// Whether a "▁" is prefixed to the text and after each special token (`tokenizer.ggml.add_space_prefix`).
    public let addSpacePrefix: Bool
    public let endOfGenerationIDs: Set<Int32>

    private let table: TokenTable
    /// The token for each byte: `<0xNN>`, else the byte's own one-byte token, else unknown, else -1.
    private let byteIDs: [Int32]
    private let pieceBytes: [UInt8]
    private let pieceOffsets: [Int]
    private let splitter: SpecialTokenSplitter

    public var vocabularySize: Int { tokens.count }

    private static let spaceMark: [UInt8] = [0xE2, 0x96, 0x81]  // "▁"

    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`.
    ///   - scores: `tokenizer.ggml.scores` (same count), or nil for all zero.
    ///   - tokenTypes: `tokenizer.ggml.token_type` (same count), or nil: then `<0xNN>` texts are byte
    ///     tokens, BOS/EOS/EOT/UNK control tokens and the rest normal.
    ///   - bosID, eosID, eotID, unknownID: `tokenizer.ggml.{bos,eos,eot,unknown}_token_id`.
    ///   - addBOS, addEOS: `tokenizer.ggml.add_bos_token` / `add_eos_token` (llama.cpp's defaults for
    ///     this model: true / false).
    ///   - addSpacePrefix: `tokenizer.ggml.add_space_prefix` (default true).
    public init(
        tokens: [String], scores: [Float]?, tokenTypes: [Int32]?,
        bosID: Int32?, eosID: Int32?, eotID: Int32?, unknownID: Int32?, addBOS: Bool, addEOS: Bool, addSpacePrefix: Bool = true
    ) throws(TokenizerError) {
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw TokenizerError(.malformedVocabulary, "the vocabulary has \(tokens.count) tokens (needs 1...\(Int32.max - 1))")
        }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw TokenizerError(.malformedVocabulary, "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        if let scores, scores.count != tokens.count {
            throw TokenizerError(.malformedVocabulary, "\(scores.count) scores for \(tokens.count) tokens")
        }
        for (name, id) in [("bos", bosID), ("eos", eosID), ("eot", eotID), ("unknown", unknownID)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw TokenizerError(
                    .invalidSpecialTokenID, "\(name) token id \(id) is outside the vocabulary 0..<\(tokens.count)", index: Int(id))
            }
        }
        var types: [TokenType]
        if let tokenTypes {
            types = tokenTypes.map(TokenType.init(rawValue:))
        } else {
            types = tokens.map { Self.byteValue(of: $0) == nil ? .normal : .byte }
            for id in [bosID, eosID, eotID, unknownID].compactMap({ $0 }) { types[Int(id)] = .control }
        }
        let table = TokenTable(tokens)
        var endOfGeneration = Set([eosID, eotID].compactMap { $0 })
        var byteIDs = [Int32](repeating: -1, count: 256)
        for (id, text) in tokens.enumerated() {
            if ByteLevelBPETokenizer.endOfGenerationTexts.contains(text) {
                endOfGeneration.insert(Int32(id))
                if types[id] != .userDefined { types[id] = .control }
            }
            if types[id] == .byte, let byte = Self.byteValue(of: text), byteIDs[Int(byte)] < 0 { byteIDs[Int(byte)] = Int32(id) }
        }
        for byte in 0..<256 where byteIDs[byte] < 0 {
            byteIDs[byte] = table.id([UInt8(byte)]) ?? unknownID ?? -1
        }

        var pieceBytes: [UInt8] = []
        var pieceOffsets = [0]
        pieceOffsets.reserveCapacity(tokens.count + 1)
        for (id, text) in tokens.enumerated() {
            switch types[id] {
            case .byte: pieceBytes += Self.byteValue(of: text).map { [$0] } ?? Array(text.utf8)
            case .normal: pieceBytes += Self.replacingSpaceMarks(Array(text.utf8))
            default: pieceBytes += text.utf8
            }
            pieceOffsets.append(pieceBytes.count)
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
        self.scores = scores ?? Array(repeating: 0, count: tokens.count)
        self.tokenTypes = types
        self.bosID = bosID
        self.eosID = eosID
        self.eotID = eotID
        self.unknownID = unknownID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.endOfGenerationIDs = endOfGeneration
        self.table = table
        self.byteIDs = byteIDs
        self.pieceBytes = pieceBytes
        self.pieceOffsets = pieceOffsets
        self.splitter = SpecialTokenSplitter(tokens: specials)
    }

    /// Ids for `text` (see the type's description). `parseSpecial` splits control/unknown token
    /// texts out of `text`; user-defined tokens are split out always.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 2 + 2)
        if addSpecial, addBOS, let bosID { ids.append(bosID) }
        let scalars = Array(text.unicodeScalars)
        var afterSpecial = true
        for fragment in splitter.split(scalars, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                ids.append(id)
                afterSpecial = true
            case .text(let range):
                encodeFragment(scalars[range], prefixSpace: addSpacePrefix && afterSpecial, into: &ids)
                afterSpecial = false
            }
        }
        if addSpecial, addEOS, let eosID { ids.append(eosID) }
        return ids
    }

    private func encodeFragment(_ scalars: ArraySlice<Unicode.Scalar>, prefixSpace: Bool, into ids: inout [Int32]) {
        // The text with "▁" for spaces, and where each character (initial symbol) starts.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count + 3)
        var starts: [Int32] = []
        starts.reserveCapacity(scalars.count + 1)
        if prefixSpace {
            starts.append(0)
            bytes += Self.spaceMark
        }
        for scalar in scalars {
            starts.append(Int32(bytes.count))
            if scalar == " " { bytes += Self.spaceMark } else { UTF8.encode(scalar) { bytes.append($0) } }
        }
        let count = starts.count
        guard count > 0 else { return }
        var lengths = [Int32](repeating: 0, count: count)
        for index in 0..<count { lengths[index] = (index + 1 < count ? starts[index + 1] : Int32(bytes.count)) - starts[index] }
        var next = (0..<count).map { Int32($0 + 1) }
        next[count - 1] = -1
        var previous = (0..<count).map { Int32($0 - 1) }

        // Highest score first, then the leftmost: order = (negated score as an ordered integer, left).
        var queue = MergeQueue(minimumCapacity: count)
        func addPair(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let start = Int(starts[Int(left)])
            let size = Int(lengths[Int(left)] + lengths[Int(right)])
            guard let id = table.id(bytes[start..<start + size]) else { return }
            let order = UInt64(Self.orderedBits(-scores[Int(id)])) << 32 | UInt64(UInt32(left))
            queue.push(order: order, payload: UInt64(UInt32(right)) << 32 | UInt64(UInt32(size)))
        }
        for index in 1..<max(count, 1) { addPair(Int32(index - 1), Int32(index)) }
        while let top = queue.pop() {
            let left = Int(truncatingIfNeeded: top.order & 0xFFFF_FFFF)
            let right = Int(truncatingIfNeeded: top.payload >> 32)
            let size = Int32(truncatingIfNeeded: top.payload & 0xFFFF_FFFF)
            // Stale: one side was merged away or grew since the pair was queued.
            guard lengths[left] > 0, lengths[right] > 0, lengths[left] + lengths[right] == size else { continue }
            lengths[left] = size
            lengths[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            addPair(previous[left], Int32(left))
            addPair(Int32(left), next[left])
        }
        var index: Int32 = 0
        while index >= 0 {
            let start = Int(starts[Int(index)])
            let piece = bytes[start..<start + Int(lengths[Int(index)])]
            if let id = table.id(piece) {
                ids.append(id)
            } else {
                for byte in piece where byteIDs[Int(byte)] >= 0 { ids.append(byteIDs[Int(byte)]) }
            }
            index = next[Int(index)]
        }
    }

    /// The bytes token `id` stands for: "▁" as a space, `<0xNN>` as its byte. The dummy-prefix
    /// space is not removed (a caller decoding a whole sequence drops the first space after BOS,
    /// as llama.cpp's detokenizer and `LlamaTokenizer` do).
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

    /// `<0xNN>` (exactly two hex digits) -> NN.
    private static func byteValue(of text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8.starts(with: [0x3C, 0x30, 0x78]), utf8[5] == 0x3E else { return nil }  // "<0x" ">"
        func digit(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        guard let high = digit(utf8[3]), let low = digit(utf8[4]) else { return nil }
        return high << 4 | low
    }

    private static func replacingSpaceMarks(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 0xE2, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// A float's bits mapped so that unsigned integer order is float order (NaN sorts last).
    private static func orderedBits(_ value: Float) -> UInt32 {
        if value.isNaN { return .max }
        if value == 0 { return 0x8000_0000 }  // -0 and +0 are equal scores
        let bits = value.bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
}
