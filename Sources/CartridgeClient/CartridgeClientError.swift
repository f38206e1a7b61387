public import CartridgeErrors
import CartridgeTransport
public import CartridgeWire

/// Errors of the host library. A device-side ERROR frame arrives as `.device` with its code.
public struct CartridgeClientError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case device, disconnected, transport, protocolViolation, invalidURI, closed }
        private var base: Base
        private init(_ base: Base) { self.base = base }
        /// The cartridge answered with ERROR; see `deviceCode`.
        public static let device = Code(.device)
        /// The cartridge went away (unplugged, daemon stopped) while the request was in flight.
        public static let disconnected = Code(.disconnected)
        /// The transport failed to open or broke; see `cause`.
        public static let transport = Code(.transport)
        /// The cartridge sent something the protocol does not allow.
        public static let protocolViolation = Code(.protocolViolation)
        public static let invalidURI = Code(.invalidURI)
        /// This connection was closed by the host.
        public static let closed = Code(.closed)
        public var description: String { "\(base)" }
    }

    public var code: Code
    /// For `.device`: the ERROR frame's code (e.g. `.busy`).
    public var deviceCode: ErrorCode?
    public var message: String
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, deviceCode: ErrorCode? = nil, cause: (any Error & Sendable)? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.deviceCode = deviceCode
        self.cause = cause
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    static func device(_ reply: ErrorReply, fileID: String = #fileID, line: Int = #line) -> CartridgeClientError {
        CartridgeClientError(.device, reply.message, deviceCode: reply.code, fileID: fileID, line: line)
    }

    static func transport(_ error: TransportError, fileID: String = #fileID, line: Int = #line) -> CartridgeClientError {
        let code: Code = error.code == .disconnected ? .disconnected : (error.code == .closed ? .closed : .transport)
        return CartridgeClientError(code, error.message, cause: error, fileID: fileID, line: line)
    }

    /// The device's ERROR code, for `.device`.
    public var details: [String] { deviceCode.map { ["device \($0)"] } ?? [] }
}
