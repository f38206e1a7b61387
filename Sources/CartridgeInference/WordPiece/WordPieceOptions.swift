/// How a `WordPieceTokenizer` normalises, splits and truncates. The defaults are those of
/// all-MiniLM-L6-v2's tokenizer.json (BERT uncased); `init(tokenizerJSON:)` reads them from a file.
public struct WordPieceOptions: Hashable, Sendable {
    /// Drop control characters, NUL and U+FFFD; turn every whitespace character into a space.
    public var cleanText = true
    /// Put spaces around CJK ideographs so each becomes a word.
    public var handleChineseCharacters = true
    /// NFD, then remove nonspacing marks. `nil` follows `lowercase` (BERT's rule).
    public var stripAccents: Bool? = nil
    public var lowercase = true
    /// Longer words (in Unicode scalars) become `[UNK]` whole.
    public var maximumInputCharactersPerWord = 100
    /// Most tokens an encoding may have, `[CLS]` and `[SEP]` included (tokenizer.json `truncation.max_length`).
    public var maximumLength = 128
    public var continuingSubwordPrefix = "##"
    public var unknownToken = "[UNK]"
    public var classifierToken = "[CLS]"
    public var separatorToken = "[SEP]"
    /// Tokens recognised verbatim in raw text before normalisation (tokenizer.json `added_tokens`).
    public var specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    public init() {}

    /// Reads the settings from a Hugging Face tokenizer.json for a BERT WordPiece model: the
    /// BertNormalizer flags, `truncation.max_length` (none: `fallbackMaximumLength`), the WordPiece
    /// model's `unk_token`, `continuing_subword_prefix`, `max_input_chars_per_word`, and the
    /// special added tokens. Other normalizers, pre-tokenizers or models are rejected.
    public init(tokenizerJSON bytes: [UInt8], fallbackMaximumLength: Int = 512) throws(InferenceError) {
        try self.init(
            tokenizerJSON: try JSONParser.parse(bytes, source: "tokenizer.json", errorCode: .malformedTokenizer),
            fallbackMaximumLength: fallbackMaximumLength)
    }

    /// Same, from an already parsed tokenizer.json.
    init(tokenizerJSON json: JSONValue, fallbackMaximumLength: Int) throws(InferenceError) {
        func bad(_ message: String) -> InferenceError { InferenceError(.malformedTokenizer, "tokenizer.json: \(message)") }
        if let normalizer = json["normalizer"], normalizer != .null {
            guard normalizer["type"]?.stringValue == "BertNormalizer" else { throw bad("normalizer is not a BertNormalizer") }
            cleanText = normalizer["clean_text"]?.boolValue ?? true
            handleChineseCharacters = normalizer["handle_chinese_chars"]?.boolValue ?? true
            lowercase = normalizer["lowercase"]?.boolValue ?? true
            stripAccents = normalizer["strip_accents"]?.boolValue
        } else {
            cleanText = false
            handleChineseCharacters = false
            lowercase = false
            stripAccents = false
        }
        if let preTokenizer = json["pre_tokenizer"], preTokenizer != .null,
            preTokenizer["type"]?.stringValue != "BertPreTokenizer"
        {
            throw bad("pre_tokenizer is not a BertPreTokenizer")
        }
        guard let model = json["model"], model["type"]?.stringValue == "WordPiece" else { throw bad("model is not WordPiece") }
        if let unknown = model["unk_token"]?.stringValue { unknownToken = unknown }
        if let prefix = model["continuing_subword_prefix"]?.stringValue { continuingSubwordPrefix = prefix }
        if let maximum = model["max_input_chars_per_word"]?.integerValue {
            guard maximum > 0 else { throw bad("max_input_chars_per_word \(maximum) is not positive") }
            maximumInputCharactersPerWord = maximum
        }
        maximumLength = fallbackMaximumLength
        if let truncation = json["truncation"], truncation != .null {
            guard let maximum = truncation["max_length"]?.integerValue, maximum >= 2 else {
                throw bad("truncation.max_length is missing or below 2")
            }
            maximumLength = maximum
        }
        if let added = json["added_tokens"]?.arrayValue {
            specialTokens = added.compactMap { token in
                token["special"]?.boolValue == true ? token["content"]?.stringValue : nil
            }
        }
        if let single = json["post_processor"]?["single"]?.arrayValue, single.count == 3,
            let first = single[0]["SpecialToken"]?["id"]?.stringValue,
            let last = single[2]["SpecialToken"]?["id"]?.stringValue
        {
            classifierToken = first
            separatorToken = last
        }
    }
}
