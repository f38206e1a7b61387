import CartridgeErrors

/// The llama2.c BPE tokenizer (`tokenizer.bin`): encode and decode exactly as llama2.c `run.c`
/// does, including the dummy-prefix space, byte fallback to `<0xXX>` tokens (id = byte + 3), and
/// the space stripped after BOS when decoding.
///
/// File format: int32 `max_token_length`, then per token: fp32 score, int32 length, the bytes.
/// Pieces are C strings in llama2.c, so a piece (and text to encode) ends at its first NUL byte.
public struct LlamaTokenizer: Sendable {
    public static let unknown: Int32 = 0
    public static let bos: Int32 = 1
    public static let eos: Int32 = 2

    /// Token pieces (bytes, not necessarily valid UTF-8).
    public let pieces: [[UInt8]]
    public let scores: [Float]
    public let maxTokenLength: Int
    private let idsByPiece: [[UInt8]: Int32]
    /// The id of the piece " " (the dummy prefix), if the vocabulary has one.
    private let spaceID: Int32?

    public var vocabSize: Int { pieces.count }

    /// Maps and reads `path`. `vocabSize` is the model's vocabulary size (llama2.c does not store
    /// it in the file); nil reads tokens until the end of the file.
    public init(path: String, vocabSize: Int? = nil) throws(InferenceError) {
        let file = try MappedFile(path: path)
        do {
            try self.init(bytes: file.bytes, vocabSize: vocabSize)
        } catch {
            throw InferenceError(error.code, "\(path): \(error.message)", fileID: error.location.fileID, line: error.location.line)
        }
    }

    public init(bytes: UnsafeRawBufferPointer, vocabSize: Int? = nil) throws(InferenceError) {
        var reader = ByteReader(bytes, errorCode: .malformedTokenizer)
        let maxLength = Int(try reader.int32())
        guard maxLength > 0, maxLength <= 1 << 16 else {
            throw InferenceError(.malformedTokenizer, "max_token_length \(maxLength) is out of range 1...65536")
        }
        if let vocabSize, vocabSize <= 0 {
            throw InferenceError(.malformedTokenizer, "vocabulary size \(vocabSize) must be positive")
        }
        var pieces: [[UInt8]] = []
        var scores: [Float] = []
        if let vocabSize { pieces.reserveCapacity(vocabSize); scores.reserveCapacity(vocabSize) }
        while vocabSize.map({ pieces.count < $0 }) ?? (reader.remaining > 0) {
            let score = try reader.float32()
            let length = Int(try reader.int32())
            guard length >= 0, length <= maxLength else {
                throw InferenceError(
                    .malformedTokenizer, "token \(pieces.count) has length \(length), outside 0...max_token_length \(maxLength)")
            }
            let start = try reader.take(length, for: "token \(pieces.count)")
            var piece = Array(UnsafeRawBufferPointer(start: start, count: length))
            if let nul = piece.firstIndex(of: 0) { piece.removeSubrange(nul...) }
            pieces.append(piece)
            scores.append(score)
        }
        guard !pieces.isEmpty else { throw InferenceError(.malformedTokenizer, "the vocabulary is empty") }
        var ids: [[UInt8]: Int32] = [:]
        for (id, piece) in pieces.enumerated().reversed() { ids[piece] = Int32(id) }  // first id wins on duplicates
        self.pieces = pieces
        self.scores = scores
        self.maxTokenLength = maxLength
        self.idsByPiece = ids
        self.spaceID = ids[[0x20]]
    }

    /// Token ids for `text` (llama2.c `encode`).
    public func encode(_ text: String, addBOS: Bool = true, addEOS: Bool = false) -> [Int32] {
        var bytes = Array(text.utf8)
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        var tokens: [Int32] = []
        tokens.reserveCapacity(bytes.count + 3)
        if addBOS { tokens.append(Self.bos) }
        if !bytes.isEmpty, let spaceID { tokens.append(spaceID) }

        // One token per UTF-8 code point (a leading byte plus at most 3 continuation bytes), else bytes.
        var index = 0
        while index < bytes.count {
            var end = index + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80, end - index < 4 { end += 1 }
            let codePoint = Array(bytes[index..<end])
            if let id = idsByPiece[codePoint] {
                tokens.append(id)
            } else {
                for byte in codePoint where Int(byte) + 3 < pieces.count { tokens.append(Int32(byte) + 3) }
            }
            index = end
        }

        // Merge the best-scoring adjacent pair until none merges (leftmost wins ties).
        func merged(_ left: Int32, _ right: Int32) -> Int32? {
            idsByPiece[pieces[Int(left)] + pieces[Int(right)]]
        }
        var candidates: [Int32?] = tokens.indices.dropLast().map { merged(tokens[$0], tokens[$0 + 1]) }
        while true {
            var bestScore: Float = -1e10
            var bestIndex = -1
            for (position, candidate) in candidates.enumerated() {
                if let candidate, scores[Int(candidate)] > bestScore {
                    bestScore = scores[Int(candidate)]
                    bestIndex = position
                }
            }
            guard bestIndex >= 0, let id = candidates[bestIndex] else { break }
            tokens[bestIndex] = id
            tokens.remove(at: bestIndex + 1)
            candidates.remove(at: bestIndex)
            if bestIndex < candidates.count { candidates[bestIndex] = merged(tokens[bestIndex], tokens[bestIndex + 1]) }
            if bestIndex > 0 { candidates[bestIndex - 1] = merged(tokens[bestIndex - 1], tokens[bestIndex]) }
        }
        if addEOS { tokens.append(Self.eos) }
        return tokens
    }

    /// The bytes token `token` stands for after `previous` (llama2.c `decode`): the leading space
    /// is dropped after BOS, and `<0xXX>` pieces become the raw byte. Out-of-range ids give no bytes.
    public func bytes(for token: Int32, after previous: Int32?) -> ArraySlice<UInt8> {
        guard token >= 0, Int(token) < pieces.count else { return [] }
        var piece = pieces[Int(token)][...]
        if previous == Self.bos, piece.first == 0x20 { piece = piece.dropFirst() }
        if let byte = Self.rawByte(piece) { return [byte] }
        return piece
    }

    /// Text for a token sequence. The first token is decoded as if it followed `previous`;
    /// BOS and EOS produce no text (as in SentencePiece; llama2.c never prints them) but still
    /// strip the space of a following piece; invalid UTF-8 (e.g. a lone byte token) becomes U+FFFD.
    public func decode(_ tokens: [Int32], after previous: Int32? = nil) -> String {
        var text: [UInt8] = []
        var previous = previous
        for token in tokens {
            if token != Self.bos, token != Self.eos { text += bytes(for: token, after: previous) }
            previous = token
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `sscanf(piece, "<0x%02hhX>")`: "<0x" followed by one or two hex digits.
    private static func rawByte(_ piece: ArraySlice<UInt8>) -> UInt8? {
        guard piece.count >= 4, piece.starts(with: [0x3C, 0x30, 0x78]) else { return nil }  // "<0x"
        var value: UInt8 = 0
        var digits = 0
        for byte in piece.dropFirst(3).prefix(2) {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return digits > 0 ? value : nil
            }
            value = value &* 16 &+ digit
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
