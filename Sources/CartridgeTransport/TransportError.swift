public import CartridgeErrors
public import CartridgeSystem

/// Errors of any transport (Unix socket, FunctionFS, libusb, in-memory).
///
/// A disconnect is a normal event: layers above treat `.disconnected` as "the peer went away".
public struct TransportError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case disconnected, closed, timedOut, permissionDenied, busy, notFound, invalidArgument, unsupported, io
            case listenerFailed
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
        /// A listener can accept no more connections, for good (its event thread failed): the
        /// service serving it must end with this error rather than retry.
        public static let listenerFailed = Code(.listenerFailed)

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

    /// Sorts a failed system call into a transport error. `meansDisconnected` is the transport's
    /// own rule for which errors mean "the peer went away" (`socketDisconnect(_:)` for Unix
    /// sockets, the gadget's `FunctionFSTransport.meansDisconnected(_:)` for FunctionFS); those
    /// become `.disconnected`. The rest are sorted by errno name.
    public static func from(
        _ error: SystemCallError, context: String,
        meansDisconnected: (SystemCallError) -> Bool = { $0.meansDisconnected },
        fileID: String = #fileID, line: Int = #line
    ) -> TransportError {
        let code: Code
        if meansDisconnected(error) {
            code = .disconnected
        } else {
            switch error.code {
            case .permissionDenied, .notPermitted: code = .permissionDenied
            case .busy: code = .busy
            case .noSuchFileOrDirectory: code = .notFound
            case .connectionRefused: code = .notFound  // nobody listening
            case .timedOut: code = .timedOut
            default: code = .io
            }
        }
        return TransportError(code, "\(context): \(error.message)", cause: error, fileID: fileID, line: line)
    }

    /// The Unix-domain socket rule for "the peer went away": the peer closed or reset its end
    /// (EPIPE on a write, ECONNRESET, ENOTCONN after a shutdown, ECONNABORTED). Anything else on a
    /// socket (EBADF, ENOMEM, ...) is a fault of this side, not a disconnect.
    public static func socketDisconnect(_ error: SystemCallError) -> Bool {
        switch error.code {
        case .brokenPipe, .connectionReset, .notConnected, .connectionAborted: true
        default: false
        }
    }
}
