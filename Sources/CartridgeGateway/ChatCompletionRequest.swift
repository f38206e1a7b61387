import CartridgeWire

/// `POST /v1/chat/completions`, parsed and checked.
struct ChatCompletionRequest: Sendable {
    /// One message of the conversation. `role` is system, user or assistant (`developer` is
    /// read as system); `content` is the text (text parts of a content list joined).
    struct Message: Sendable, Equatable {
        var role: String
        var content: String
    }

    var model: String
    var messages: [Message]
    /// `max_completion_tokens`, else `max_tokens`; nil: until the model stops or its context is full.
    var maximumTokens: UInt32?
    var temperature: Float
    var topP: Float
    var stopSequences: [String]
    var seed: UInt64
    var stream: Bool
    var includeUsage: Bool
    var logprobs: Bool
    /// `top_logprobs` (0...20), with `logprobs`.
    var topLogprobs: Int

    static let maximumMessages = 1024

    init(fields: RequestFields) throws(GatewayError) {
        model = try fields.requiredString("model")
        guard let list = fields.value("messages") else { throw GatewayError(.invalidRequest, "'messages' is required", param: "messages") }
        guard case .array(let elements) = list else { throw fields.typeError("messages", "a list of messages", list) }
        guard !elements.isEmpty else { throw GatewayError(.invalidRequest, "'messages' is an empty list", param: "messages") }
        guard elements.count <= ChatCompletionRequest.maximumMessages else {
            throw GatewayError(.invalidRequest, "'messages' holds \(elements.count) messages; at most \(ChatCompletionRequest.maximumMessages)", param: "messages")
        }
        messages = []
        for (index, element) in elements.enumerated() {
            messages.append(try ChatCompletionRequest.message(element, param: "messages[\(index)]"))
        }
        let completionTokens = try fields.integer("max_completion_tokens", in: 1...1_048_576)
        let legacyTokens = try fields.integer("max_tokens", in: 1...1_048_576)
        maximumTokens = (completionTokens ?? legacyTokens).map { UInt32($0) }
        temperature = Float(try fields.number("temperature", in: 0...2) ?? 1)
        topP = Float(try fields.number("top_p", in: 0...1) ?? 1)
        stopSequences = try fields.stopSequences()
        seed = try fields.integer("seed", in: Int64.min...Int64.max).map { UInt64(bitPattern: $0) } ?? UInt64.random(in: 0...UInt64.max)
        stream = try fields.bool("stream") ?? false
        includeUsage = try fields.includeUsageInStream()
        logprobs = try fields.bool("logprobs") ?? false
        topLogprobs = Int(try fields.integer("top_logprobs", in: 0...20) ?? 0)
        if fields.value("top_logprobs") != nil && !logprobs {
            throw GatewayError(.invalidRequest, "'top_logprobs' needs 'logprobs': true", param: "top_logprobs")
        }
        try fields.requireSingleChoice()
        if let tools = fields.value("tools"), tools != .array([]) {
            throw GatewayError(.invalidRequest, "tool calling is not supported by cartridges", param: "tools")
        }
        if let format = fields.value("response_format"), format["type"] != .string("text") {
            throw GatewayError(.invalidRequest, "only the 'text' response format is supported", param: "response_format")
        }
    }

    static func message(_ value: JSONValue, param: String) throws(GatewayError) -> Message {
        guard case .object = value else {
            throw GatewayError(.invalidRequest, "'\(param)' must be an object with 'role' and 'content', not \(value.typeName)", param: param)
        }
        guard case .string(var role) = value["role"] ?? .null else {
            throw GatewayError(.invalidRequest, "'\(param).role' is required (system, user or assistant)", param: "\(param).role")
        }
        if role == "developer" { role = "system" }
        guard ["system", "user", "assistant"].contains(role) else {
            throw GatewayError(.invalidRequest, "'\(param).role' is '\(role)'; use system, user or assistant", param: "\(param).role")
        }
        let content: String
        switch value["content"] ?? .null {
        case .string(let text):
            content = text
        case .array(let parts):
            var text = ""
            for (index, part) in parts.enumerated() {
                guard part["type"] == .string("text"), case .string(let piece) = part["text"] ?? .null else {
                    throw GatewayError(
                        .invalidRequest, "'\(param).content[\(index)]': only text parts ({\"type\": \"text\", \"text\": ...}) are supported",
                        param: "\(param).content")
                }
                text += piece
            }
            content = text
        case .null:
            throw GatewayError(.invalidRequest, "'\(param).content' is required", param: "\(param).content")
        case let other:
            throw GatewayError(.invalidRequest, "'\(param).content' must be a string or a list of text parts, not \(other.typeName)", param: "\(param).content")
        }
        return Message(role: role, content: content)
    }
}
