public import CartridgeInference
public import CartridgeWire

/// A Llama-family decoder (CartridgeInference) served by the daemon: GENERATE, TOKENIZE,
/// DETOKENIZE. Every call runs on the daemon's inference thread.
public final class LlamaServedModel: ServedModel {
    public let model: LlamaModel
    public let card: ModelCard
    public let capabilities: Capabilities

    /// Texts longer than this are refused before tokenization (a prompt that long cannot fit
    /// the context anyway, and tokenizing it would hold the inference thread).
    public static let maximumTextBytes = 65536

    public init(model: LlamaModel, card: ModelCard) {
        self.model = model
        self.card = card
        capabilities = model.tokenizer == nil ? [.generate, .sessions] : [.generate, .tokenize, .sessions]
    }

    /// The model card facts that follow from the weights themselves.
    public static func describe(
        _ model: LlamaModel, quantization: String, name: String, imageDigest: [UInt8], licence: String, publisher: String
    ) -> ModelCard {
        let config = model.config
        let parameters = model.weights.tensors.reduce(0) { $0 + $1.tensor.elementCount }
        return ModelCard(
            name: name, family: "llama",
            architecture: "decoder dim=\(config.dim) hidden=\(config.hiddenDim) layers=\(config.layers) "
                + "heads=\(config.heads) kv_heads=\(config.kvHeads)",
            parameterCount: UInt64(parameters), quantization: quantization, contextLength: UInt32(config.seqLen),
            vocabularySize: UInt32(config.vocab), tokenizer: model.tokenizer == nil ? "none" : "llama2c-bpe",
            imageDigest: imageDigest, licence: licence, publisher: publisher, embeddingDimension: 0)
    }

    public func tokenize(_ text: String, options: TokenizeRequest.Options) throws(ModelError) -> [UInt32] {
        try Self.checkLength(text)
        var tokens = try Self.mapped { () throws(InferenceError) in try model.tokenize(text, addBOS: options.contains(.addBeginning)) }
        if options.contains(.addEnd) { tokens.append(LlamaTokenizer.eos) }
        return tokens.map { UInt32(bitPattern: $0) }
    }

    public func detokenize(_ tokens: [UInt32]) throws(ModelError) -> String {
        let ids = try Self.tokenIDs(tokens, vocabulary: model.config.vocab)
        return try Self.mapped { () throws(InferenceError) in try model.detokenize(ids) }
    }

    public func makeGenerationContext() throws(ModelError) -> any GenerationContext {
        LlamaGenerationContext(model: model, session: model.makeSession())
    }

    public func embed(_ sentences: [String]) throws(ModelError) -> [[Float]] {
        throw ModelError(.unsupported, "a decoder cartridge cannot EMBED")
    }

    public func setWorkerCount(_ count: Int) {
        model.setWorkerCount(max(1, min(count, model.maximumWorkers)))
    }

    static func checkLength(_ text: String) throws(ModelError) {
        guard text.utf8.count <= maximumTextBytes else {
            throw ModelError(.invalidArgument, "the text has \(text.utf8.count) bytes; the limit is \(maximumTextBytes)")
        }
    }

    static func tokenIDs(_ tokens: [UInt32], vocabulary: Int) throws(ModelError) -> [Int32] {
        if let bad = tokens.first(where: { Int($0) >= vocabulary }) {
            throw ModelError(.invalidArgument, "token id \(bad) is outside the vocabulary 0..<\(vocabulary)")
        }
        return tokens.map { Int32(bitPattern: $0) }
    }

    /// Runs engine code, turning its errors into protocol errors.
    static func mapped<Result>(_ body: () throws(InferenceError) -> Result) throws(ModelError) -> Result {
        do {
            return try body()
        } catch {
            switch error.code {
            case .invalidArgument: throw ModelError(.invalidArgument, error.message)
            case .contextFull: throw ModelError(.contextOverflow, error.message)
            default: throw ModelError(.internalError, error.message)
            }
        }
    }
}

/// One KV-cache context of a `LlamaServedModel`.
final class LlamaGenerationContext: GenerationContext {
    let model: LlamaModel
    let session: LlamaSession

    init(model: LlamaModel, session: LlamaSession) {
        self.model = model
        self.session = session
    }

    func start(prompt: Prompt, request: GenerateRequest) throws(ModelError) -> PromptAccounting {
        let tokens: [Int32]
        switch prompt {
        case .text(let text):
            try LlamaServedModel.checkLength(text)
            tokens = try LlamaServedModel.mapped { () throws(InferenceError) in try model.tokenize(text, addBOS: true) }
        case .tokens(let ids):
            tokens = try LlamaServedModel.tokenIDs(ids, vocabulary: model.config.vocab)
        }
        guard !tokens.isEmpty else { throw ModelError(.invalidArgument, "the prompt is empty") }
        let parameters = GenerationParameters(
            sampling: SamplingParameters(
                temperature: request.temperature, topP: request.topP == 0 ? 1 : request.topP, topK: Int(request.topK),
                seed: request.seed),
            maxTokens: Int(request.maximumTokens), stopAtEndOfSequence: true, stopSequences: request.stopSequences)
        let cached = try LlamaServedModel.mapped { () throws(InferenceError) in
            try session.startGeneration(promptTokens: tokens, parameters: parameters)
        }
        return PromptAccounting(promptTokens: tokens.count, cachedTokens: cached)
    }

    func next() throws(ModelError) -> GenerationStep {
        let step = try LlamaServedModel.mapped { () throws(InferenceError) in try session.nextToken() }
        switch step {
        case .token(let id, let text):
            return .token(id: UInt32(bitPattern: id), text: text)
        case .finished(let reason, let text):
            let stop: StopReason
            switch reason {
            case .maxTokens: stop = .maximumTokens
            case .endOfSequence: stop = .endOfSequence
            case .stopSequence: stop = .stopSequence
            case .contextFull: stop = .contextFull
            }
            return .finished(stop, trailingText: text)
        }
    }
}
