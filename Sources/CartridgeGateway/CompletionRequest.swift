import CartridgeWire

/// `POST /v1/completions`, parsed and checked.
struct CompletionRequest: Sendable {
    var model: String
    /// One choice per prompt.
    var prompts: [Prompt]
    var maximumTokens: UInt32
    var temperature: Float
    var topP: Float
    var stopSequences: [String]
    var seed: UInt64
    var stream: Bool
    var includeUsage: Bool
    var echo: Bool
    /// `logprobs`: how many alternatives per position (0...5); nil when not asked for.
    var logprobs: Int?

    /// Prompts in one request, at most.
    static let maximumPrompts = 64

    init(fields: RequestFields) throws(GatewayError) {
        model = try fields.requiredString("model")
        guard let promptValue = fields.value("prompt") else {
            throw GatewayError(.invalidRequest, "'prompt' is required", param: "prompt")
        }
        prompts = try CompletionRequest.prompts(from: promptValue)
        guard prompts.count <= CompletionRequest.maximumPrompts else {
            throw GatewayError(.invalidRequest, "'prompt' holds \(prompts.count) prompts; at most \(CompletionRequest.maximumPrompts)", param: "prompt")
        }
        maximumTokens = UInt32(try fields.integer("max_tokens", in: 1...1_048_576) ?? 16)
        temperature = Float(try fields.number("temperature", in: 0...2) ?? 1)
        topP = Float(try fields.number("top_p", in: 0...1) ?? 1)
        stopSequences = try fields.stopSequences()
        seed = try fields.integer("seed", in: Int64.min...Int64.max).map { UInt64(bitPattern: $0) } ?? UInt64.random(in: 0...UInt64.max)
        stream = try fields.bool("stream") ?? false
        includeUsage = try fields.includeUsageInStream()
        echo = try fields.bool("echo") ?? false
        logprobs = try fields.integer("logprobs", in: 0...5).map { Int($0) }
        try fields.requireSingleChoice()
        if let suffix = try fields.string("suffix"), !suffix.isEmpty {
            throw GatewayError(.invalidRequest, "'suffix' (insertion) is not supported", param: "suffix")
        }
        if let bestOf = try fields.integer("best_of", in: Int64.min...Int64.max), bestOf != 1 {
            throw GatewayError(.invalidRequest, "'best_of' must be 1", param: "best_of")
        }
        if stream && prompts.count > 1 {
            throw GatewayError(.invalidRequest, "streaming takes one prompt per request", param: "prompt")
        }
    }

    /// `prompt`: a string, a list of strings, a list of token ids, or a list of token-id lists.
    static func prompts(from value: JSONValue) throws(GatewayError) -> [Prompt] {
        func tokens(_ elements: [JSONValue], param: String) throws(GatewayError) -> [UInt32] {
            var ids: [UInt32] = []
            ids.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                guard case .integer(let id) = element, id >= 0, id <= Int64(UInt32.max) else {
                    throw GatewayError(.invalidRequest, "'\(param)[\(index)]' must be a token id (an integer >= 0)", param: param)
                }
                ids.append(UInt32(id))
            }
            return ids
        }
        switch value {
        case .string(let text):
            return [.text(text)]
        case .array(let elements):
            guard let first = elements.first else { throw GatewayError(.invalidRequest, "'prompt' is an empty list", param: "prompt") }
            switch first {
            case .string:
                var prompts: [Prompt] = []
                for (index, element) in elements.enumerated() {
                    guard case .string(let text) = element else {
                        throw GatewayError(.invalidRequest, "'prompt[\(index)]' must be a string like the others", param: "prompt")
                    }
                    prompts.append(.text(text))
                }
                return prompts
            case .integer:
                return [.tokens(try tokens(elements, param: "prompt"))]
            case .array:
                var prompts: [Prompt] = []
                for (index, element) in elements.enumerated() {
                    guard case .array(let inner) = element, !inner.isEmpty else {
                        throw GatewayError(.invalidRequest, "'prompt[\(index)]' must be a non-empty list of token ids", param: "prompt")
                    }
                    prompts.append(.tokens(try tokens(inner, param: "prompt[\(index)]")))
                }
                return prompts
            default:
                throw GatewayError(.invalidRequest, "'prompt' must be a string, a list of strings or a list of token ids", param: "prompt")
            }
        default:
            throw GatewayError(.invalidRequest, "'prompt' must be a string, a list of strings or a list of token ids, not \(value.typeName)", param: "prompt")
        }
    }

    func generateRequest(for prompt: Prompt) -> GenerateRequest {
        GenerateRequest(
            prompt: prompt, maximumTokens: maximumTokens, temperature: temperature, topP: topP >= 1 ? 0 : topP,
            seed: seed, stopSequences: stopSequences)
    }
}
