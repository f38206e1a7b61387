/// The sentence-transformers settings of a model directory (sentence_bert_config.json): how long
/// an input may be before it is truncated. sentence-transformers applies `max_seq_length` instead
/// of tokenizer.json's `truncation.max_length` (all-MiniLM-L6-v2: 256, not 128), so a cartridge
/// that should embed as the reference implementation does uses it too.
public struct SentenceTransformersConfig: Hashable, Sendable {
    /// The file name in a model directory.
    public static let fileName = "sentence_bert_config.json"

    /// Tokens per input after truncation, `[CLS]` and `[SEP]` included.
    public var maximumSequenceLength: Int

    public init(maximumSequenceLength: Int) {
        self.maximumSequenceLength = maximumSequenceLength
    }

    /// Parses sentence_bert_config.json; `max_seq_length` must be an integer of at least 2.
    public init(json bytes: [UInt8]) throws(InferenceError) {
        let json = try JSONParser.parse(bytes, source: Self.fileName, errorCode: .invalidConfiguration)
        guard let length = json["max_seq_length"]?.integerValue, length >= 2 else {
            throw InferenceError(.invalidConfiguration, "\(Self.fileName): max_seq_length is missing or below 2")
        }
        maximumSequenceLength = length
    }

    /// The truncation length for an encoder with `positions` position embeddings.
    public func truncationLength(positions: Int) -> Int { min(maximumSequenceLength, positions) }
}
