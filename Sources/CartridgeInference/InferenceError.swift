public import CartridgeErrors

/// Everything that can go wrong in CartridgeInference: unreadable or malformed model files,
/// tensors that do not fit a configuration, bad requests (token ids out of range, a full context).
public struct InferenceError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case fileUnreadable, malformedCheckpoint, malformedTokenizer, invalidConfiguration
            case invalidTensor, invalidArgument, contextFull, cancelled, busy
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file could not be opened, sized or mapped.
        public static let fileUnreadable = Code(.fileUnreadable)
        /// A checkpoint has a bad magic/version, impossible dimensions, or is truncated.
        public static let malformedCheckpoint = Code(.malformedCheckpoint)
        /// A tokenizer.bin is truncated or has impossible lengths.
        public static let malformedTokenizer = Code(.malformedTokenizer)
        /// A `LlamaConfig` whose dimensions cannot describe a model.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A named tensor is missing, has the wrong shape or an unsupported element type.
        public static let invalidTensor = Code(.invalidTensor)
        /// A request argument is out of range (token id, sampling parameter).
        public static let invalidArgument = Code(.invalidArgument)
        /// The prompt does not fit in the model's context window.
        public static let contextFull = Code(.contextFull)
        /// The caller cancelled the work (a prefill stopped between chunks or layers).
        public static let cancelled = Code(.cancelled)
        /// The KV-cache memory budget cannot hold this generation now; retry later.
        public static let busy = Code(.busy)

        public var description: String {
            switch value {
            case .fileUnreadable: "fileUnreadable"
            case .malformedCheckpoint: "malformedCheckpoint"
            case .malformedTokenizer: "malformedTokenizer"
            case .invalidConfiguration: "invalidConfiguration"
            case .invalidTensor: "invalidTensor"
            case .invalidArgument: "invalidArgument"
            case .contextFull: "contextFull"
            case .cancelled: "cancelled"
            case .busy: "busy"
            }
        }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = SourceLocation(fileID: fileID, line: line)
    }
}
