public import CartridgeErrors

/// A script that cannot be parsed, or a step that cannot be carried out.
public struct ConformanceError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case syntax, unknownField, badValue, io }
        private var base: Base
        private init(_ base: Base) { self.base = base }
        public static let syntax = Code(.syntax)
        public static let unknownField = Code(.unknownField)
        public static let badValue = Code(.badValue)
        public static let io = Code(.io)
        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    /// "file:line" of the script step, when known.
    public var scriptLocation: String?
    public var location: SourceLocation

    public init(_ code: Code, _ message: String, at scriptLocation: String? = nil, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.scriptLocation = scriptLocation
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    /// The script step ("file:line"), when known.
    public var details: [String] { scriptLocation.map { ["script \($0)"] } ?? [] }
}
