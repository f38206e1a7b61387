public import CartridgeErrors

/// The one error type of CartridgePower: a value that cannot be encoded into a power data object,
/// a request for an object the policy cannot satisfy, or a malformed message word.
public struct PowerError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case valueOutOfRange, invalidObjectPosition, unsupportedObject, malformedMessage
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A field does not fit its bit width or is not a multiple of its unit.
        public static let valueOutOfRange = Code(.valueOutOfRange)
        /// Object positions are 1...13 (0 and 14...15 are reserved).
        public static let invalidObjectPosition = Code(.invalidObjectPosition)
        /// The object kind cannot be used for the requested operation.
        public static let unsupportedObject = Code(.unsupportedObject)
        /// A message header or extended header field is inconsistent.
        public static let malformedMessage = Code(.malformedMessage)

        public var description: String {
            switch value {
            case .valueOutOfRange: "value out of range"
            case .invalidObjectPosition: "invalid object position"
            case .unsupportedObject: "unsupported object"
            case .malformedMessage: "malformed message"
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

extension PowerError {
    /// Checks that `value` is a multiple of `unit` and that `value / unit` fits in `bits` bits,
    /// then returns the field value.
    static func field(
        _ value: UInt32, unit: UInt32, bits: Int, name: String, fileID: String = #fileID, line: Int = #line
    ) throws(PowerError) -> UInt32 {
        guard value % unit == 0 else {
            throw PowerError(.valueOutOfRange, "\(name) \(value) is not a multiple of \(unit)", fileID: fileID, line: line)
        }
        let raw = value / unit
        let limit: UInt32 = (1 << UInt32(bits)) - 1
        guard raw <= limit else {
            throw PowerError(
                .valueOutOfRange, "\(name) \(value) exceeds the \(bits)-bit field (max \(limit * unit))",
                fileID: fileID, line: line)
        }
        return raw
    }
}
