/// Sentence embeddings end to end: WordPiece tokenization, the BERT encoder, mean pooling and L2
/// normalisation: sentence-transformers' Transformer → Pooling(mean) → Normalize pipeline.
///
/// Model card of the default model, sentence-transformers/all-MiniLM-L6-v2: 384 dimensions,
/// 6 layers, uncased WordPiece vocabulary of 30,522; its tokenizer.json truncates to 128 tokens
/// (what this follows), sentence-transformers' `max_seq_length` is 256 and the position table
/// allows 512.
public struct SentenceEmbedder: Sendable {
    public let tokenizer: WordPieceTokenizer
    public let encoder: BertEncoder
    /// Sentences are encoded in groups of at most this many tokens, bounding the activation memory
    /// (about 15 KB per token for MiniLM) whatever the request size.
    public var maximumBatchTokens = 8192

    public init(tokenizer: WordPieceTokenizer, encoder: BertEncoder) throws(InferenceError) {
        guard tokenizer.options.maximumLength <= encoder.config.maximumPositions else {
            throw InferenceError(
                .invalidConfiguration,
                "tokenizer truncates at \(tokenizer.options.maximumLength) tokens, the encoder has \(encoder.config.maximumPositions) positions")
        }
        guard tokenizer.vocabularySize == encoder.config.vocabularySize else {
            throw InferenceError(
                .invalidConfiguration,
                "vocabulary has \(tokenizer.vocabularySize) tokens, the encoder expects \(encoder.config.vocabularySize)")
        }
        self.tokenizer = tokenizer
        self.encoder = encoder
    }

    /// The embedding dimension (384 for all-MiniLM-L6-v2).
    public var dimension: Int { encoder.config.hiddenSize }
    /// Tokens per sentence after truncation, [CLS] and [SEP] included (128 for all-MiniLM-L6-v2).
    public var maximumTokens: Int { tokenizer.options.maximumLength }

    /// Loads a Hugging Face model directory: config.json, vocab.txt, tokenizer.json (optional: BERT
    /// uncased defaults and truncation at the position limit without it), sentence_bert_config.json
    /// (optional: its `max_seq_length` is the truncation length, as in sentence-transformers) and
    /// model.safetensors, which is mapped, not read.
    public static func load(directory: String) throws(InferenceError) -> SentenceEmbedder {
        let config = try BertConfig(configJSON: try contents(of: directory + "/config.json"))
        let vocabulary = try contents(of: directory + "/vocab.txt")
        var options = WordPieceOptions()
        options.maximumLength = config.maximumPositions
        if let tokenizerJSON = try? contents(of: directory + "/tokenizer.json") {
            options = try WordPieceOptions(tokenizerJSON: tokenizerJSON, fallbackMaximumLength: config.maximumPositions)
        }
        if let sentenceConfig = try? contents(of: directory + "/" + SentenceTransformersConfig.fileName) {
            // sentence-transformers truncates at max_seq_length, not at tokenizer.json's length.
            options.maximumLength = try SentenceTransformersConfig(json: sentenceConfig).truncationLength(positions: config.maximumPositions)
        }
        let tokenizer = try WordPieceTokenizer(vocabulary: vocabulary, options: options)
        let mapping = try MappedFile(path: directory + "/model.safetensors")
        let file = try SafeTensorsFile(bytes: mapping.bytes)
        var tensors: [String: TensorView] = [:]
        var owners: [any AnyObject & Sendable] = [mapping]
        for (name, shape) in BertEncoder.tensorNames(for: config) {
            let (view, storage) = try file.floatTensor(file.entries[name] == nil ? "bert." + name : name, shape: shape)
            tensors[name] = view
            if let storage { owners.append(storage) }
        }
        return try SentenceEmbedder(tokenizer: tokenizer, encoder: try BertEncoder(tensors: tensors, config: config, owners: owners))
    }

    private static func contents(of path: String) throws(InferenceError) -> [UInt8] {
        let file = try MappedFile(path: path)
        // The copy must finish before the mapping can be released.
        return withExtendedLifetime(file) { Array(file.bytes) }
    }

    /// One L2-normalised vector of `dimension` floats per sentence, in order.
    public func embed(_ sentences: [String], pool: WorkerPool? = nil) throws(InferenceError) -> [[Float]] {
        try embed(tokenIDs: sentences.map { tokenizer.encode($0) }, pool: pool)
    }

    /// Same, from already tokenized sequences (each framed by [CLS] … [SEP]).
    public func embed(tokenIDs sequences: [[Int32]], pool: WorkerPool? = nil) throws(InferenceError) -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(sequences.count)
        var start = 0
        while start < sequences.count {
            var end = start
            var tokens = 0
            while end < sequences.count, end == start || tokens + sequences[end].count <= maximumBatchTokens {
                tokens += sequences[end].count
                end += 1
            }
            vectors += try encoder.embed(Array(sequences[start..<end]), pool: pool)
            start = end
        }
        return vectors
    }
}
