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

    /// Texts longer than this are refused before tokenization (a prompt that long cannot fit
    /// the context anyway, and tokenizing it would hold the inference thread).
    public static let maximumTextBytes = 65536

    public init(model: LlamaModel, card: ModelCard, chatTemplate: ChatTemplate? = nil) {
        self.model = model
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

    func start(_ request: GenerationSpec) throws(ModelError) -> PromptAccounting {
        let tokens: [Int32]
        switch request.prompt {
        case .text(let text):
            try LlamaServedModel.checkLength(text)
            tokens = try LlamaServedModel.mapped { () throws(InferenceError) in try model.promptTokens(for: text) }
        case .tokens(let ids):
            tokens = try LlamaServedModel.tokenIDs(ids, vocabulary: model.config.vocab)
        }
        guard !tokens.isEmpty else { throw ModelError(.invalidArgument, "the prompt is empty") }
        let parameters = GenerationParameters(
            sampling: SamplingParameters(
                temperature: request.temperature, topP: request.topP == 0 ? 1 : request.topP, topK: Int(request.topK),
                seed: request.seed),
            maxTokens: Int(request.maximumTokens), stopAtEndOfSequence: true, stopSequences: request.stopSequences,
            topLogprobs: request.topLogprobs, echo: request.echo)
        let cached = try LlamaServedModel.mapped { () throws(InferenceError) in
            try session.startGeneration(promptTokens: tokens, parameters: parameters)
        }
        var echoed: [PromptToken] = []
        if request.echo {
            let distributions = session.promptLogprobs
            for (index, token) in tokens.enumerated() {
                let text = String(decoding: model.tokenizer?.bytes(for: token, renderSpecial: true) ?? [], as: UTF8.self)
                let logprobs = request.topLogprobs > 0 && index < distributions.count
                    ? Self.wire(distributions[index]) ?? TokenLogprobs(logprob: .nan, top: []) : nil
                echoed.append(PromptToken(index: UInt32(index), tokenID: UInt32(bitPattern: token), text: text, logprobs: logprobs))
            }
        }
        return PromptAccounting(promptTokens: tokens.count, cachedTokens: cached, echoed: echoed)
    }

    static func wire(_ logprobs: TopLogprobs?) -> TokenLogprobs? {
        logprobs.map { TokenLogprobs(logprob: $0.logprob, top: $0.top.map { TokenLogprob(tokenID: UInt32(bitPattern: $0.id), logprob: $0.logprob) }) }
    }

    func next() throws(ModelError) -> GenerationStep {
        let step = try LlamaServedModel.mapped { () throws(InferenceError) in try session.nextToken() }
        switch step {
        case .token(let id, let text):
            return .token(id: UInt32(bitPattern: id), text: text, logprobs: Self.wire(session.lastLogprobs))
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
