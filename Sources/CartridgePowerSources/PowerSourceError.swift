public import CartridgeErrors

/// The one error type of CartridgePowerSources: a sysfs file that is missing or holds something
/// unexpected, a failed system call, or a scripted-source file that does not parse.
public struct PowerSourceError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable { case missingFile, malformedValue, ioFailure, scriptSyntax }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A file or directory the source needs does not exist.
        public static let missingFile = Code(.missingFile)
        /// A file exists but its content is not what the ABI promises.
        public static let malformedValue = Code(.malformedValue)
        /// A system call failed for another reason.
        public static let ioFailure = Code(.ioFailure)
        /// A scripted power source file does not parse (the message names file and line).
        public static let scriptSyntax = Code(.scriptSyntax)

        public var description: String {
            switch value {
            case .missingFile: "missing file"
            case .malformedValue: "malformed value"
            case .ioFailure: "I/O failure"
            case .scriptSyntax: "script syntax"
            }
        }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = SourceLocation(fileID: fileID, line: line)
    }
}
