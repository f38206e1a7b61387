public import CartridgeErrors

/// Errors of the gateway, each answered to the HTTP client as OpenAI's error JSON
/// (`{"error": {"message", "type", "param", "code"}}`) with the status its code implies.
public struct GatewayError: ModuleError {
    /// What went wrong, and so the HTTP status and OpenAI error type of the answer.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// HTTP status of the answer.
        public let status: Int
        /// OpenAI's `error.type`.
        public let type: String
        /// OpenAI's `error.code` (a short machine-readable name).
        public let name: String

        private init(status: Int, type: String, name: String) {
            self.status = status
            self.type = type
            self.name = name
        }

        /// Malformed JSON, a missing field or a value out of range: 400.
        public static let invalidRequest = Code(status: 400, type: "invalid_request_error", name: "invalid_request")
        /// The prompt does not fit in the model's context: 400.
        public static let contextLengthExceeded = Code(status: 400, type: "invalid_request_error", name: "context_length_exceeded")
        /// Missing or wrong bearer token: 401.
        public static let unauthorized = Code(status: 401, type: "authentication_error", name: "invalid_api_key")
        /// No such route: 404.
        public static let notFound = Code(status: 404, type: "invalid_request_error", name: "not_found")
        /// No cartridge serves the model asked for: 404.
        public static let modelNotFound = Code(status: 404, type: "invalid_request_error", name: "model_not_found")
        /// The route exists but not with this method: 405.
        public static let methodNotAllowed = Code(status: 405, type: "invalid_request_error", name: "method_not_allowed")
        /// The request body is larger than the gateway accepts: 413.
        public static let bodyTooLarge = Code(status: 413, type: "invalid_request_error", name: "request_too_large")
        /// The wait queue is full: 429 with Retry-After.
        public static let rateLimited = Code(status: 429, type: "rate_limit_error", name: "queue_full")
        /// The cartridge failed while answering: 500.
        public static let cartridgeFailed = Code(status: 500, type: "server_error", name: "cartridge_error")
        /// The model cannot do what was asked (e.g. chat on a cartridge without a chat template): 501.
        public static let notImplemented = Code(status: 501, type: "invalid_request_error", name: "not_implemented")
        /// The cartridge went away, or none became free in time: 503.
        public static let unavailable = Code(status: 503, type: "server_error", name: "cartridge_unavailable")

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The request field at fault (OpenAI's `error.param`), e.g. `messages[2].role`.
    public var param: String?
    /// For `.rateLimited` and `.unavailable`: seconds the client should wait (Retry-After).
    public var retryAfterSeconds: Int?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, param: String? = nil, retryAfterSeconds: Int? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.param = param
        self.retryAfterSeconds = retryAfterSeconds
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    /// What an HTTP client is told of a lower failure: a module error's message (with its cause's
    /// message), never its source locations or cause tree (those go to the log).
    static func clientMessage(_ error: any Error) -> String {
        guard let moduleError = error as? any ModuleError else { return "\(error)" }
        guard let cause = moduleError.cause else { return moduleError.message }
        return moduleError.message + ": " + clientMessage(cause)
    }

    /// The HTTP status, and the request field at fault when there is one.
    public var details: [String] { ["HTTP \(code.status)"] + (param.map { ["param: \($0)"] } ?? []) }

    /// The OpenAI error object, `{"error": {...}}`.
    var json: JSONValue {
        .object([
            ("error", .object([
                ("message", .string(message)),
                ("type", .string(code.type)),
                ("param", param.map(JSONValue.string) ?? .null),
                ("code", .string(code.name)),
            ]))
        ])
    }
}
