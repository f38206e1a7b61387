public import CartridgeInference
public import CartridgeWire

/// A BERT-style sentence-embedding model (all-MiniLM-L6-v2) served by the daemon: EMBED, and
/// TOKENIZE/DETOKENIZE with its WordPiece vocabulary (so a host can count the tokens an EMBED
/// input costs: TOKENIZE with both options gives `[CLS] … [SEP]`; EMBED truncates that to the
/// card's `context_length`). Runs on the daemon's inference thread with the inference core's
/// worker pool.
public final class BertServedModel: ServedModel {
    public let embedder: SentenceEmbedder
    public let card: ModelCard
    public let capabilities: Capabilities = [.embed, .tokenize]
    private let pool: WorkerPool

    /// Sentences per EMBED request; larger batches are refused (split them).
    public static let maximumBatch = 256
    /// Bytes per sentence (the tokenizer truncates to the model's limit; this bounds the work before it).
    public static let maximumSentenceBytes = 16384

    public init(embedder: SentenceEmbedder, card: ModelCard, maximumWorkers: Int = 2) {
        self.embedder = embedder
        self.card = card
        pool = WorkerPool(maximumWorkers: maximumWorkers)
    }

    public static func describe(
        _ embedder: SentenceEmbedder, name: String, imageDigest: [UInt8], licence: String, publisher: String
    ) -> ModelCard {
        let config = embedder.encoder.config
        return ModelCard(
            name: name, family: "bert",
            architecture: "encoder hidden=\(config.hiddenSize) layers=\(config.layerCount) heads=\(config.headCount) "
                + "intermediate=\(config.intermediateSize), mean pooling, L2-normalised",
            parameterCount: UInt64(BertEncoder.tensorNames(for: config).reduce(0) { $0 + $1.1.reduce(1, *) }), quantization: "f32",
            contextLength: UInt32(embedder.maximumTokens), vocabularySize: UInt32(config.vocabularySize),
            tokenizer: "wordpiece", imageDigest: imageDigest, licence: licence, publisher: publisher,
            embeddingDimension: UInt32(embedder.dimension))
    }

    /// The WordPiece ids of `text` without truncation: `[CLS]` first with `.addBeginning`, `[SEP]`
    /// last with `.addEnd`.
    public func tokenize(_ text: String, options: TokenizeRequest.Options) throws(ModelError) -> [UInt32] {
        guard text.utf8.count <= Self.maximumTokenizeBytes else {
            throw ModelError(.invalidArgument, "the text has \(text.utf8.count) bytes; the limit is \(Self.maximumTokenizeBytes)")
        }
        let tokenizer = embedder.tokenizer
        var ids = tokenizer.contentIDs(text)
        if options.contains(.addBeginning) { ids.insert(tokenizer.classifierID, at: 0) }
        if options.contains(.addEnd) { ids.append(tokenizer.separatorID) }
        return ids.map { UInt32(bitPattern: $0) }
    }

    /// The text of WordPiece ids as BERT decoders join them: pieces that start with `##` continue
    /// the word before them, the others start a new word after a space (special tokens as written).
    public func detokenize(_ tokens: [UInt32]) throws(ModelError) -> String {
        let vocabulary = embedder.tokenizer.tokens
        var text = ""
        for token in tokens {
            guard token < UInt32(vocabulary.count) else {
                throw ModelError(.invalidArgument, "token id \(token) is outside the vocabulary of \(vocabulary.count)")
            }
            let piece = vocabulary[Int(token)]
            if piece.hasPrefix("##") {
                text += piece.dropFirst(2)
            } else {
                if !text.isEmpty { text += " " }
                text += piece
            }
        }
        return text
    }

    /// Bytes of TOKENIZE text (as GENERATE text prompts, docs/PROTOCOL.md section 8).
    public static let maximumTokenizeBytes = 65536

    public func makeGenerationContext() throws(ModelError) -> any GenerationContext {
        throw ModelError(.unsupported, "an encoder cartridge cannot GENERATE; it answers EMBED")
    }

    public func embed(_ sentences: [String]) throws(ModelError) -> [[Float]] {
        guard sentences.count <= Self.maximumBatch else {
            throw ModelError(.invalidArgument, "\(sentences.count) sentences; at most \(Self.maximumBatch) per EMBED")
        }
        if let long = sentences.first(where: { $0.utf8.count > Self.maximumSentenceBytes }) {
            throw ModelError(.invalidArgument, "a sentence has \(long.utf8.count) bytes; the limit is \(Self.maximumSentenceBytes)")
        }
        do {
            return try embedder.embed(sentences, pool: pool)
        } catch {
            throw ModelError(error.code == .invalidArgument ? .invalidArgument : .internalError, error.message)
        }
    }

    public func setWorkerCount(_ count: Int) {
        pool.activeWorkers = max(1, min(count, pool.maximumWorkers))
    }
}
