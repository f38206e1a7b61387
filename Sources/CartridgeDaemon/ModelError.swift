public import CartridgeErrors
public import CartridgeWire

/// A model refused or failed a request. Carries the protocol error code it maps to.
public struct ModelError: ModuleError {
    public var code: ErrorCode
    public var message: String
    public var location: SourceLocation

    public init(_ code: ErrorCode, _ message: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.location = SourceLocation(fileID: fileID, line: line)
    }
}
