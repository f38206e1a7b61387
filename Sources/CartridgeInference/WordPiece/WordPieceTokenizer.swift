/// BERT's tokenizer, token for token what Hugging Face `tokenizers` does with a BERT tokenizer.json:
/// special tokens taken verbatim from the raw text, `BertNormalizer`, `BertPreTokenizer` (split on
/// whitespace, isolate punctuation), greedy longest-match-first WordPiece with `##` continuations
/// (a word that cannot be covered, or is longer than 100 scalars, becomes `[UNK]`), truncation to
/// `maximumLength - 2`, then `[CLS] … [SEP]`.
///
/// Vocabulary lookups compare exact scalar sequences (UTF-8 bytes), not Swift's canonically
/// equivalent `String` equality, as the Rust implementation does.
public struct WordPieceTokenizer: Sendable {
    public internal(set) var options: WordPieceOptions
    /// Tokens by id.
    public let tokens: [String]
    private let ids: [[UInt8]: Int32]
    private let normalizer: BertNormalizer
    public let unknownID: Int32
    public let classifierID: Int32
    public let separatorID: Int32
    private let specialTokens: [(scalars: [Unicode.Scalar], id: Int32)]

    /// `vocabulary` is vocab.txt: one token per line, the line number is its id.
    public init(vocabulary: [UInt8], options: WordPieceOptions = WordPieceOptions()) throws(InferenceError) {
        var tokens: [String] = []
        var lineStart = 0
        var index = 0
        while index <= vocabulary.count {
            if index == vocabulary.count || vocabulary[index] == 0x0A {
                var line = Array(vocabulary[lineStart..<index])
                if line.last == 0x0D { line.removeLast() }
                if index < vocabulary.count || !line.isEmpty {
                    guard let token = String(validating: line, as: UTF8.self) else {
                        throw InferenceError(.malformedTokenizer, "vocab.txt: line \(tokens.count + 1) is not valid UTF-8")
                    }
                    guard tokens.count < Int(Int32.max) else { throw InferenceError(.malformedTokenizer, "vocab.txt: too many lines") }
                    tokens.append(token)
                }
                lineStart = index + 1
            }
            index += 1
        }
        try self.init(tokens: tokens, options: options, source: "vocab.txt")
    }

    /// A Hugging Face tokenizer.json for a BERT WordPiece model, alone: the vocabulary is its
    /// `model.vocab` (ids 0..<n, each exactly once), the options those of `WordPieceOptions(tokenizerJSON:)`.
    public init(tokenizerJSON bytes: [UInt8], fallbackMaximumLength: Int = 512) throws(InferenceError) {
        let json = try JSONParser.parse(bytes, source: "tokenizer.json", errorCode: .malformedTokenizer)
        let options = try WordPieceOptions(tokenizerJSON: json, fallbackMaximumLength: fallbackMaximumLength)
        guard let vocabulary = json["model"]?["vocab"]?.objectValue, !vocabulary.isEmpty else {
            throw InferenceError(.malformedTokenizer, "tokenizer.json: model.vocab is missing or empty")
        }
        var tokens = [String?](repeating: nil, count: vocabulary.count)
        for (token, value) in vocabulary {
            guard let id = value.integerValue, id >= 0, id < tokens.count, tokens[id] == nil else {
                throw InferenceError(
                    .malformedTokenizer, "tokenizer.json: model.vocab ids must be 0..<\(tokens.count), each once ('\(token)': \(value))")
            }
            tokens[id] = token
        }
        try self.init(tokens: tokens.map { $0! }, options: options, source: "tokenizer.json")
    }

    /// `tokens` by id; `source` names the file in errors.
    public init(tokens: [String], options: WordPieceOptions, source: String = "vocabulary") throws(InferenceError) {
        guard !tokens.isEmpty else { throw InferenceError(.malformedTokenizer, "\(source): the vocabulary is empty") }
        guard tokens.count <= Int(Int32.max) else { throw InferenceError(.malformedTokenizer, "\(source): too many tokens") }
        guard options.maximumLength >= 2, options.maximumInputCharactersPerWord > 0 else {
            throw InferenceError(.invalidConfiguration, "tokenizer: maximumLength must be at least 2 and the word limit positive")
        }
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        // A repeated vocab.txt line maps to its last id, as Hugging Face's reader does.
        for (id, token) in tokens.enumerated() { ids[Array(token.utf8)] = Int32(id) }
        func required(_ token: String) throws(InferenceError) -> Int32 {
            guard let id = ids[Array(token.utf8)] else {
                throw InferenceError(.malformedTokenizer, "\(source) has no '\(token)' token")
            }
            return id
        }
        self.tokens = tokens
        self.ids = ids
        self.options = options
        unknownID = try required(options.unknownToken)
        classifierID = try required(options.classifierToken)
        separatorID = try required(options.separatorToken)
        var specials: [(scalars: [Unicode.Scalar], id: Int32)] = []
        for token in options.specialTokens where !token.isEmpty {
            specials.append((Array(token.unicodeScalars), try required(token)))
        }
        // Longest first, so the leftmost-longest match wins.
        specialTokens = specials.sorted { $0.scalars.count > $1.scalars.count }
        normalizer = BertNormalizer(
            cleanText: options.cleanText, handleChineseCharacters: options.handleChineseCharacters,
            stripAccents: options.stripAccents ?? options.lowercase, lowercase: options.lowercase)
    }

    public var vocabularySize: Int { tokens.count }

    /// The id of `token`, if it is in the vocabulary.
    public func id(of token: String) -> Int32? { ids[Array(token.utf8)] }

    /// Token ids for one sentence: `[CLS]`, at most `maximumLength - 2` content tokens, `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var content = contentIDs(text, limit: options.maximumLength - 2)
        if content.count > options.maximumLength - 2 { content.removeLast(content.count - (options.maximumLength - 2)) }
        return [classifierID] + content + [separatorID]
    }

    /// Content token ids without special framing or truncation (stops early once past `limit`).
    public func contentIDs(_ text: String, limit: Int = .max) -> [Int32] {
        var output: [Int32] = []
        let scalars = Array(text.unicodeScalars)
        var segmentStart = 0
        var position = 0
        while position < scalars.count && output.count <= limit {
            if let special = specialTokenMatch(scalars, at: position) {
                appendWords(scalars[segmentStart..<position], to: &output)
                output.append(special.id)
                position += special.length
                segmentStart = position
            } else {
                position += 1
            }
        }
        if output.count <= limit { appendWords(scalars[segmentStart..<min(position, scalars.count)], to: &output) }
        return output
    }

    private func specialTokenMatch(_ scalars: [Unicode.Scalar], at position: Int) -> (id: Int32, length: Int)? {
        for special in specialTokens where special.scalars.count <= scalars.count - position {
            var matches = true
            for offset in 0..<special.scalars.count where scalars[position + offset] != special.scalars[offset] {
                matches = false
                break
            }
            if matches { return (special.id, special.scalars.count) }
        }
        return nil
    }

    /// Normalises one stretch of raw text, splits it into words and appends their WordPiece ids.
    private func appendWords(_ raw: ArraySlice<Unicode.Scalar>, to output: inout [Int32]) {
        guard !raw.isEmpty else { return }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: raw)
        let normalized = normalizer.normalize(Substring(String(view)).unicodeScalars)
        var wordStart: Int? = nil
        for (index, scalar) in normalized.enumerated() {
            if BertNormalizer.isWhitespace(scalar) {
                if let start = wordStart { appendWordPieces(normalized[start..<index], to: &output) }
                wordStart = nil
            } else if BertNormalizer.isPunctuation(scalar) {
                if let start = wordStart { appendWordPieces(normalized[start..<index], to: &output) }
                appendWordPieces(normalized[index..<(index + 1)], to: &output)
                wordStart = nil
            } else if wordStart == nil {
                wordStart = index
            }
        }
        if let start = wordStart { appendWordPieces(normalized[start...], to: &output) }
    }

    private func appendWordPieces(_ word: ArraySlice<Unicode.Scalar>, to output: inout [Int32]) {
        guard word.count <= options.maximumInputCharactersPerWord else {
            output.append(unknownID)
            return
        }
        // UTF-8 of the word and the byte offset of each scalar boundary.
        var bytes: [UInt8] = []
        var boundaries: [Int] = [0]
        for scalar in word {
            bytes.append(contentsOf: UTF8.encode(scalar)!)
            boundaries.append(bytes.count)
        }
        let prefix = Array(options.continuingSubwordPrefix.utf8)
        var pieces: [Int32] = []
        var start = 0
        let count = word.count
        while start < count {
            var end = count
            var found: Int32? = nil
            while start < end {
                var key = start > 0 ? prefix : []
                key.append(contentsOf: bytes[boundaries[start]..<boundaries[end]])
                if let id = ids[key] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                output.append(unknownID)
                return
            }
            pieces.append(id)
            start = end
        }
        output.append(contentsOf: pieces)
    }
}
