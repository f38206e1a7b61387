public import CartridgeWire

/// A model refused or failed a request. Carries the protocol error code it maps to.
public struct ModelError: Error, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var fileID: String
    public var line: Int

    public init(_ code: ErrorCode, _ message: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.fileID = fileID
        self.line = line
    }

    public var description: String { "ModelError.\(code.name): \(message) [\(fileID):\(line)]" }
}
