public import CartridgeSystem

/// Errors of any transport (Unix socket, FunctionFS, libusb, in-memory).
///
/// A disconnect is a normal event: layers above treat `.disconnected` as "the peer went away".
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case disconnected, closed, timedOut, permissionDenied, busy, notFound, invalidArgument, unsupported, io
        }
        private var base: Base
        private init(_ base: Base) { self.base = base }

        /// The peer went away (socket hang-up, USB unplug, UDC unbound).
        public static let disconnected = Code(.disconnected)
        /// This side closed the transport.
        public static let closed = Code(.closed)
        public static let timedOut = Code(.timedOut)
        /// The OS refused access (file mode, udev rule missing).
        public static let permissionDenied = Code(.permissionDenied)
        /// Another process holds the device.
        public static let busy = Code(.busy)
        public static let notFound = Code(.notFound)
        public static let invalidArgument = Code(.invalidArgument)
        public static let unsupported = Code(.unsupported)
        /// Any other I/O failure; see `cause`.
        public static let io = Code(.io)

        public var description: String { "\(base)" }
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

    /// Sorts a failed system call into a transport error: hang-ups become `.disconnected`.
    public static func from(
        _ error: SystemCallError, context: String, fileID: String = #fileID, line: Int = #line
    ) -> TransportError {
        let code: Code
        if error.meansDisconnected {
            code = .disconnected
        } else {
            switch error.errno {
            case 13, 1: code = .permissionDenied  // EACCES, EPERM
            case 16: code = .busy  // EBUSY
            case 2: code = .notFound  // ENOENT
            case 110: code = .timedOut  // ETIMEDOUT
            case 111: code = .notFound  // ECONNREFUSED: nobody listening
            default: code = .io
            }
        }
        return TransportError(code, "\(context): \(error)", cause: error, fileID: fileID, line: line)
    }

    public var description: String {
        var text = "TransportError.\(code): \(message)"
        if let cause { text += " (cause: \(cause))" }
        text += " [\(location)]"
        return text
    }
}
