public import CartridgeInference
public import CartridgeWire

/// A BERT-style sentence-embedding model (all-MiniLM-L6-v2) served by the daemon: EMBED. Runs on
/// the daemon's inference thread with the inference core's worker pool.
public final class BertServedModel: ServedModel {
    public let embedder: SentenceEmbedder
    public let card: ModelCard
    public let capabilities: Capabilities = [.embed]
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

    public func tokenize(_ text: String, options: TokenizeRequest.Options) throws(ModelError) -> [UInt32] {
        throw ModelError(.unsupported, "this embedding cartridge does not expose its tokenizer")
    }

    public func detokenize(_ tokens: [UInt32]) throws(ModelError) -> String {
        throw ModelError(.unsupported, "this embedding cartridge does not expose its tokenizer")
    }

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
