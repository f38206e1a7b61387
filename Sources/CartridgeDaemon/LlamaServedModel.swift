import CartridgeTokenizers
public import CartridgeInference
public import CartridgeTemplate
public import CartridgeWire

/// A Llama-family decoder (CartridgeInference) served by the daemon: GENERATE, CHAT (when the
/// model has a chat template), TOKENIZE, DETOKENIZE. Every call runs on the daemon's inference thread.
public final class LlamaServedModel: ServedModel {
    public let model: LlamaModel
    public let card: ModelCard
    public let capabilities: Capabilities
    /// The model's own chat template (GGUF `tokenizer.chat_template`), parsed at load.
    public let chatTemplate: ChatTemplate?
    /// Runs every generation of this cartridge: continuous batching, chunked cancellable
    /// prefill, prefix cache, KV-cache budget.
    public let scheduler: GenerationScheduler

    /// Texts longer than this are refused before tokenization (a prompt that long cannot fit
    /// the context anyway, and tokenizing it would hold the inference thread).
    public static let maximumTextBytes = 65536

    public init(model: LlamaModel, card: ModelCard, chatTemplate: ChatTemplate? = nil, kvBudgetBytes: Int? = nil) {
        self.model = model
        scheduler = GenerationScheduler(model: model, kvBudgetBytes: kvBudgetBytes)
        self.card = card
        self.chatTemplate = model.tokenizer == nil ? nil : chatTemplate
        var capabilities: Capabilities = model.tokenizer == nil ? [.generate, .sessions, .logprobs] : [.generate, .tokenize, .sessions, .logprobs]
        if self.chatTemplate != nil { capabilities.insert(.chat) }
        self.capabilities = capabilities
    }

    /// The model card facts that follow from the weights themselves.
    public static func describe(
        _ model: LlamaModel, quantization: String, name: String, imageDigest: [UInt8], licence: String, publisher: String,
        tokenizer tokenizerName: String = "llama2c-bpe"
    ) -> ModelCard {
        let config = model.config
        let parameters = model.weights.tensors.reduce(0) { $0 + $1.tensor.elementCount }
        return ModelCard(
            name: name, family: "llama",
            architecture: "decoder dim=\(config.dim) hidden=\(config.hiddenDim) layers=\(config.layers) "
                + "heads=\(config.heads) kv_heads=\(config.kvHeads)",
            parameterCount: UInt64(parameters), quantization: quantization, contextLength: UInt32(config.seqLen),
            vocabularySize: UInt32(config.vocab), tokenizer: model.tokenizer == nil ? "none" : tokenizerName,
            imageDigest: imageDigest, licence: licence, publisher: publisher, embeddingDimension: 0)
    }

    public func tokenize(_ text: String, options: TokenizeRequest.Options) throws(ModelError) -> [UInt32] {
        try Self.checkLength(text)
        var tokens = try Self.mapped { () throws(InferenceError) in try model.tokenize(text, addBOS: options.contains(.addBeginning)) }
        if options.contains(.addEnd) {
            guard let eos = model.tokenizer?.eosID else { throw ModelError(.invalidArgument, "this model's vocabulary has no end-of-sequence token") }
            tokens.append(eos)
        }
        return tokens.map { UInt32(bitPattern: $0) }
    }

    public func detokenize(_ tokens: [UInt32]) throws(ModelError) -> String {
        let ids = try Self.tokenIDs(tokens, vocabulary: model.config.vocab)
        return try Self.mapped { () throws(InferenceError) in try model.detokenize(ids) }
    }

    /// Renders `messages` with the chat template (with the generation prompt) and tokenizes the
    /// result with its special tokens; BOS is added when the model wants it and the template did not.
    public func chatPrompt(_ messages: [ChatMessage]) throws(ModelError) -> [UInt32] {
        guard let chatTemplate, let tokenizer = model.tokenizer else {
            throw ModelError(.unsupported, "this cartridge's model has no chat template")
        }
        guard !messages.isEmpty else { throw ModelError(.invalidArgument, "CHAT needs at least one message") }
        if let bad = messages.first(where: { !ChatMessage.roles.contains($0.role) }) {
            throw ModelError(.invalidArgument, "unknown role '\(bad.role)' (roles: system, user, assistant)")
        }
        let total = messages.reduce(0) { $0 + $1.content.utf8.count }
        guard total <= Self.maximumTextBytes else {
            throw ModelError(.invalidArgument, "the conversation has \(total) bytes; the limit is \(Self.maximumTextBytes)")
        }
        func text(_ id: Int32?) -> String { id.map { String(decoding: tokenizer.bytes(for: $0, renderSpecial: true), as: UTF8.self) } ?? "" }
        let rendered: String
        do {
            rendered = try chatTemplate.render(
                messages: messages.map { (role: $0.role, content: $0.content) }, addGenerationPrompt: true, bosToken: text(tokenizer.bosID),
                eosToken: text(tokenizer.eosID))
        } catch {
            // The template refuses this conversation (e.g. roles that do not alternate).
            throw ModelError(.invalidArgument, "the chat template refused the conversation: \(error)")
        }
        var tokens = try Self.mapped { () throws(InferenceError) in try model.promptTokens(for: rendered) }
        if tokens.count >= 2, let bos = tokenizer.bosID, tokens[0] == bos, tokens[1] == bos { tokens.removeFirst() }
        guard tokens.count < model.config.seqLen else {
            throw ModelError(.contextOverflow, "the conversation is \(tokens.count) tokens; the context holds \(model.config.seqLen)")
        }
        return tokens.map { UInt32(bitPattern: $0) }
    }

    public func makeGenerationContext() throws(ModelError) -> any GenerationContext {
        LlamaGenerationContext(model: model, session: model.makeSession(), scheduler: scheduler)
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

    /// An engine error as a protocol error.
    static func modelError(_ error: InferenceError) -> ModelError {
        do {
            return try mapped { () throws(InferenceError) -> ModelError in throw error }
        } catch {
            return error
        }
    }

    /// Runs engine code, turning its errors into protocol errors.
    static func mapped<Result>(_ body: () throws(InferenceError) -> Result) throws(ModelError) -> Result {
        do {
            return try body()
        } catch {
            switch error.code {
            case .invalidArgument: throw ModelError(.invalidArgument, error.message)
            case .contextFull: throw ModelError(.contextOverflow, error.message)
            case .busy: throw ModelError(.busy, error.message)
            case .cancelled: throw ModelError(.invalidArgument, "cancelled: \(error.message)")
            default: throw ModelError(.internalError, error.message)
            }
        }
    }
}

/// One KV-cache context of a `LlamaServedModel`, run by its `GenerationScheduler`.
///
/// `@unchecked Sendable`: the prepared request is written by `prepare` and read by `start`,
/// which the daemon calls one after the other for one request at a time.
final class LlamaGenerationContext: GenerationContext, @unchecked Sendable {
    let model: LlamaModel
    let session: LlamaSession
    let scheduler: GenerationScheduler
    private var tokens: [Int32] = []
    private var parameters = GenerationParameters()
    private var echo = false
    private var topLogprobs = 0

    init(model: LlamaModel, session: LlamaSession, scheduler: GenerationScheduler) {
        self.model = model
        self.session = session
        self.scheduler = scheduler
    }

    func prepare(_ request: GenerationSpec) throws(ModelError) {
        switch request.prompt {
        case .text(let text):
            try LlamaServedModel.checkLength(text)
            tokens = try LlamaServedModel.mapped { () throws(InferenceError) in try model.promptTokens(for: text) }
        case .tokens(let ids):
            tokens = try LlamaServedModel.tokenIDs(ids, vocabulary: model.config.vocab)
        }
        guard !tokens.isEmpty else { throw ModelError(.invalidArgument, "the prompt is empty") }
        guard tokens.count <= model.config.seqLen else {
            throw ModelError(.contextOverflow, "the prompt has \(tokens.count) tokens, the context holds \(model.config.seqLen)")
        }
        parameters = GenerationParameters(
            sampling: SamplingParameters(
                temperature: request.temperature, topP: request.topP == 0 ? 1 : request.topP, topK: Int(request.topK),
                seed: request.seed),
            maxTokens: Int(request.maximumTokens), stopAtEndOfSequence: true, stopSequences: request.stopSequences,
            topLogprobs: request.topLogprobs, echo: request.echo)
        echo = request.echo
        topLogprobs = request.topLogprobs
    }

    func start(isCancelled: @escaping @Sendable () -> Bool) async throws(ModelError) -> PromptAccounting {
        let cached: Int
        do {
            cached = try await scheduler.start(session, prompt: tokens, parameters: parameters, isCancelled: isCancelled)
        } catch {
            throw LlamaServedModel.modelError(error)
        }
        var echoed: [PromptToken] = []
        if echo {
            let distributions = session.promptLogprobs
            for (index, token) in tokens.enumerated() {
                let text = String(decoding: model.tokenizer?.bytes(for: token, renderSpecial: true) ?? [], as: UTF8.self)
                let logprobs = topLogprobs > 0 && index < distributions.count
                    ? Self.wire(distributions[index]) ?? TokenLogprobs(logprob: .nan, top: []) : nil
                echoed.append(PromptToken(index: UInt32(index), tokenID: UInt32(bitPattern: token), text: text, logprobs: logprobs))
            }
        }
        return PromptAccounting(promptTokens: tokens.count, cachedTokens: cached, echoed: echoed)
    }

    static func wire(_ logprobs: TopLogprobs?) -> TokenLogprobs? {
        logprobs.map { TokenLogprobs(logprob: $0.logprob, top: $0.top.map { TokenLogprob(tokenID: UInt32(bitPattern: $0.id), logprob: $0.logprob) }) }
    }

    func next() async throws(ModelError) -> GenerationStep {
        let scheduled: ScheduledStep
        do {
            scheduled = try await scheduler.next(session)
        } catch {
            throw LlamaServedModel.modelError(error)
        }
        switch scheduled.step {
        case .token(let id, let text):
            return .token(id: UInt32(bitPattern: id), text: text, logprobs: Self.wire(scheduled.logprobs))
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

    func end() { scheduler.end(session) }
}
