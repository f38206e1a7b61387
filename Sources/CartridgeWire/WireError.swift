public import CartridgeErrors

/// A payload that does not decode as the message its frame type announces.
public struct WireError: ModuleError, Hashable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case truncated, invalidValue, invalidUTF8, tooLarge, outOfRange }
        private var base: Base
        private init(_ base: Base) { self.base = base }
        /// The payload ended in the middle of a field.
        public static let truncated = Code(.truncated)
        /// A field holds a value the protocol does not allow.
        public static let invalidValue = Code(.invalidValue)
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A count or length larger than the payload could hold.
        public static let tooLarge = Code(.tooLarge)
        /// A well-formed field whose value is outside the range the request allows (answered with
        /// INVALID_ARGUMENT, not MALFORMED_PAYLOAD: the payload decoded, the value is refused).
        public static let outOfRange = Code(.outOfRange)
        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public var location: SourceLocation

    public init(_ code: Code, _ message: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.location = SourceLocation(fileID: fileID, line: line)
    }
}
