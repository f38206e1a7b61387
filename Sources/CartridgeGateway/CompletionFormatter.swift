import CartridgeWire
#if canImport(Glibc)
import Glibc
#endif

/// Writes generation results in OpenAI's shapes: `text_completion` for /v1/completions and
/// `chat.completion` / `chat.completion.chunk` for /v1/chat/completions.
struct CompletionFormatter: Sendable {
    enum Style: Sendable { case text, chat }

    let style: Style
    let id: String
    let created: Int64
    let model: String
    let fingerprint: String
    /// The serialized fields every chunk starts with, `{"id":...,"system_fingerprint":"...",`.
    private let chunkPrefix: [UInt8]

    init(style: Style, model: String, digest: [UInt8]) {
        self.style = style
        self.model = model
        self.created = Int64(time(nil))
        self.id = (style == .text ? "cmpl-" : "chatcmpl-") + CompletionFormatter.randomHex(24)
        self.fingerprint = "fp_" + String(lowercaseHex(digest).prefix(12))
        var prefix = JSONValue.object([
            ("id", .string(id)), ("object", .string(style == .text ? "text_completion" : "chat.completion.chunk")),
            ("created", .integer(created)), ("model", .string(model)), ("system_fingerprint", .string(fingerprint)),
        ]).serialized()
        prefix.removeLast()  // the closing brace
        prefix.append(UInt8(ascii: ","))
        chunkPrefix = prefix
    }

    /// `chunk(...)` as a server-sent event, with the constant fields serialized once per stream.
    func chunkEvent(text: String?, finishReason: String?, role: Bool = false, logprobs: JSONValue = .null) -> [UInt8] {
        var bytes: [UInt8] = Array("data: ".utf8)
        bytes.reserveCapacity(chunkPrefix.count + 128)
        bytes.append(contentsOf: chunkPrefix)
        JSONValue.writeString("choices", into: &bytes)
        bytes.append(contentsOf: Array(":[".utf8))
        choice(text: text, finishReason: finishReason, role: role, logprobs: logprobs).write(into: &bytes)
        bytes.append(contentsOf: Array("]}\n\n".utf8))
        return bytes
    }

    static func randomHex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int.random(in: 0..<16)] })
    }

    /// OpenAI's finish_reason for the cartridge's stop reason.
    static func finishReason(_ reason: StopReason) -> String {
        switch reason {
        case .maximumTokens, .contextFull: "length"
        default: "stop"
        }
    }

    static func usage(prompt: UInt32, completion: UInt32) -> JSONValue {
        .object([
            ("prompt_tokens", .integer(Int64(prompt))),
            ("completion_tokens", .integer(Int64(completion))),
            ("total_tokens", .integer(Int64(prompt) + Int64(completion))),
        ])
    }

    /// One finished choice.
    struct Choice: Sendable {
        var text: String
        var finishReason: String
        /// OpenAI's `logprobs` object, or null.
        var logprobs: JSONValue = .null
    }

    /// The whole answer of a non-streamed request.
    func completion(choices: [Choice], promptTokens: UInt32, completionTokens: UInt32) -> JSONValue {
        let choiceValues: [JSONValue] = choices.enumerated().map { index, choice in
            switch style {
            case .text:
                .object([
                    ("text", .string(choice.text)), ("index", .integer(Int64(index))), ("logprobs", choice.logprobs),
                    ("finish_reason", .string(choice.finishReason)),
                ])
            case .chat:
                .object([
                    ("index", .integer(Int64(index))),
                    ("message", .object([("role", .string("assistant")), ("content", .string(choice.text)), ("refusal", .null)])),
                    ("logprobs", choice.logprobs), ("finish_reason", .string(choice.finishReason)),
                ])
            }
        }
        return .object(header(object: style == .text ? "text_completion" : "chat.completion") + [
            ("choices", .array(choiceValues)),
            ("usage", CompletionFormatter.usage(prompt: promptTokens, completion: completionTokens)),
        ])
    }

    private func header(object: String) -> [(String, JSONValue)] {
        [
            ("id", .string(id)), ("object", .string(object)), ("created", .integer(created)), ("model", .string(model)),
            ("system_fingerprint", .string(fingerprint)),
        ]
    }

    /// A streamed piece: `text` (nil in the chat style's opening chunk, which carries the role),
    /// and on the last piece its finish reason.
    func chunk(text: String?, finishReason: String?, role: Bool = false, logprobs: JSONValue = .null) -> JSONValue {
        .object(header(object: style == .text ? "text_completion" : "chat.completion.chunk") + [
            ("choices", .array([choice(text: text, finishReason: finishReason, role: role, logprobs: logprobs)]))
        ])
    }

    private func choice(text: String?, finishReason: String?, role: Bool, logprobs: JSONValue) -> JSONValue {
        let finish: JSONValue = finishReason.map(JSONValue.string) ?? .null
        switch style {
        case .text:
            return .object([("text", .string(text ?? "")), ("index", .integer(0)), ("logprobs", logprobs), ("finish_reason", finish)])
        case .chat:
            var delta: [(String, JSONValue)] = []
            if role { delta.append(("role", .string("assistant"))) }
            if let text { delta.append(("content", .string(text))) }
            return .object([("index", .integer(0)), ("delta", .object(delta)), ("logprobs", logprobs), ("finish_reason", finish)])
        }
    }

    /// The usage chunk sent before [DONE] when `stream_options.include_usage` is set.
    func usageChunk(promptTokens: UInt32, completionTokens: UInt32) -> JSONValue {
        .object(header(object: style == .text ? "text_completion" : "chat.completion.chunk") + [
            ("choices", .array([])), ("usage", CompletionFormatter.usage(prompt: promptTokens, completion: completionTokens)),
        ])
    }
}
