public import CartridgeTokenizers
import Synchronization

/// A loaded Llama decoder: weights, tokenizer, the worker pool and the power knobs. Thread-safe;
/// each conversation runs in its own `LlamaSession`.
public final class LlamaModel: Sendable {
    public let weights: LlamaWeights
    /// Nil when the model came without a vocabulary (token ids only). A llama2.c `LlamaTokenizer`
    /// or a GGUF tokenizer (`ByteLevelBPETokenizer`).
    public let tokenizer: (any TextTokenizer)?
    /// Ids that end a generation (`GenerationParameters.stopAtEndOfSequence`).
    public let endOfGenerationIDs: Set<Int32>
    let pool: WorkerPool
    /// The activation workspace of forward passes, shared by every session of this model (they
    /// share the worker pool too, so passes run one at a time).
    private let decoder: Mutex<DecoderState>
    /// Prompt positions per forward pass (a prefill chunk); also the most rows of a
    /// continuous-batching step.
    public let prefillChunk: Int
    /// Logit rows the decoder computes together.
    let decoderLogitRows = 8
    /// Bit pattern of the tokens/s cap (Double); 0 = unlimited.
    private let rateLimitBits = Atomic<UInt64>(0)

    public var config: LlamaConfig { weights.config }

    /// `maximumWorkers` threads are created once (the caller's thread plus helpers) and reused.
    public init(weights: LlamaWeights, tokenizer: (any TextTokenizer)?, maximumWorkers: Int = 2, prefillChunk: Int = 64) throws(InferenceError) {
        if let tokenizer, tokenizer.vocabularySize != weights.config.vocab {
            throw InferenceError(
                .invalidArgument, "the tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocabulary is \(weights.config.vocab)")
        }
        self.weights = weights
        self.tokenizer = tokenizer
        endOfGenerationIDs = tokenizer?.endOfGenerationIDs ?? [LlamaTokenizer.bos, LlamaTokenizer.eos]
        pool = WorkerPool(maximumWorkers: maximumWorkers)
        self.prefillChunk = max(1, prefillChunk)
        decoder = Mutex(DecoderState(weights: weights, rowCapacity: max(1, prefillChunk), logitRowCapacity: 8, workers: pool.maximumWorkers))
    }

    /// Runs `body` with the decoder workspace (one pass at a time).
    func withDecoder<Result>(_ body: (DecoderState) -> Result) -> Result {
        decoder.withLock { body($0) }
    }

    /// Loads a llama2.c checkpoint (v0 fp32 or v2 Q8_0) and, if given, its tokenizer.bin.
    public convenience init(checkpointPath: String, tokenizerPath: String?, maximumWorkers: Int = 2) throws(InferenceError) {
        let checkpoint = try LlamaCheckpoint(path: checkpointPath)
        let tokenizer = try tokenizerPath.map { path throws(InferenceError) in
            try LlamaTokenizer(path: path, vocabSize: checkpoint.config.vocab)
        }
        try self.init(weights: checkpoint.weights, tokenizer: tokenizer, maximumWorkers: maximumWorkers)
    }

    // MARK: Power knobs (any thread, any time; they apply from the next matrix product / token)

    /// Threads used for inference, 1...maximumWorkers.
    public var workerCount: Int {
        get { pool.activeWorkers }
        set { pool.activeWorkers = newValue }
    }

    public var maximumWorkers: Int { pool.maximumWorkers }

    public func setWorkerCount(_ count: Int) { pool.activeWorkers = count }

    /// Caps generation at `tokensPerSecond` (nil or ≤ 0: unlimited). Sessions sleep between tokens.
    public var tokenRateLimit: Double? {
        get {
            let value = Double(bitPattern: rateLimitBits.load(ordering: .relaxed))
            return value > 0 ? value : nil
        }
        set { rateLimitBits.store((newValue.map { $0 > 0 ? $0 : 0 } ?? 0).bitPattern, ordering: .relaxed) }
    }

    public func setTokenRateLimit(_ tokensPerSecond: Double?) { tokenRateLimit = tokensPerSecond }

    // MARK: Text

    /// Token ids for `text`, with BOS first if `addBOS` (llama2.c encode adds its dummy-prefix
    /// space; GGUF tokenizers recognise special-token texts such as `<|im_start|>`). Throws
    /// without a tokenizer.
    public func tokenize(_ text: String, addBOS: Bool = true) throws(InferenceError) -> [Int32] {
        guard let tokenizer else { throw InferenceError(.invalidArgument, "this model has no tokenizer") }
        if let llama = tokenizer as? LlamaTokenizer { return llama.encode(text, addBOS: addBOS) }
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        guard addBOS else { return ids }
        guard let bos = tokenizer.bosID else { throw InferenceError(.invalidArgument, "this model's vocabulary has no beginning-of-sequence token") }
        return [bos] + ids
    }

    /// Token ids of a text prompt as the model expects it: BOS (and EOS) per the model's own
    /// flags (llama2.c: BOS; SmolLM2: none), special-token texts recognised.
    public func promptTokens(for text: String) throws(InferenceError) -> [Int32] {
        guard let tokenizer else { throw InferenceError(.invalidArgument, "this model has no tokenizer") }
        return tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    }

    /// Text for `tokens` (llama2.c: the space after BOS is dropped; special tokens give no text;
    /// invalid UTF-8 becomes U+FFFD).
    public func detokenize(_ tokens: [Int32]) throws(InferenceError) -> String {
        guard let tokenizer else { throw InferenceError(.invalidArgument, "this model has no tokenizer") }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= tokenizer.vocabularySize }) {
            throw InferenceError(.invalidArgument, "token id \(bad) is outside the vocabulary 0..<\(tokenizer.vocabularySize)")
        }
        if let llama = tokenizer as? LlamaTokenizer { return llama.decode(tokens) }
        return tokenizer.decode(tokens)
    }

    /// The bytes generated token `token` adds after `previous` (no bytes for special tokens).
    func pieceBytes(_ token: Int32, after previous: Int32) -> [UInt8] {
        guard let tokenizer else { return [] }
        if let llama = tokenizer as? LlamaTokenizer { return Array(llama.bytes(for: token, after: previous)) }
        return tokenizer.bytes(for: token, renderSpecial: false)
    }

    /// A new context with an empty KV cache.
    public func makeSession() -> LlamaSession { LlamaSession(model: self) }

    /// Bytes of weights read per generated token (for GB/s figures).
    public var weightBytesPerToken: Int { weights.bytesPerToken }
}
