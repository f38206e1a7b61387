#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: its name, the `errno` it left behind, and where it was called.
///
/// Equality and hashing look at the call and the errno only, not at the location.
public struct SystemCallError: ModuleError, Hashable {
    public var systemCall: String
    public var errno: Int32
    public var location: SourceLocation

    public init(systemCall: String, errno: Int32, fileID: String = #fileID, line: Int = #line) {
        self.systemCall = systemCall
        self.errno = errno
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    public init(systemCall: String, errno: Errno, fileID: String = #fileID, line: Int = #line) {
        self.init(systemCall: systemCall, errno: errno.rawValue, fileID: fileID, line: line)
    }

    /// Captures the calling thread's current `errno`.
    public static func current(_ systemCall: String, fileID: String = #fileID, line: Int = #line) -> SystemCallError {
        SystemCallError(systemCall: systemCall, errno: Glibc.errno, fileID: fileID, line: line)
    }

    /// The errno, named (`ECONNRESET`).
    public var code: Errno { Errno(rawValue: errno) }

    /// `'read' failed: Connection reset by peer`.
    public var message: String { "'\(systemCall)' failed: \(code.explanation)" }

    /// Errors that mean the peer went away on some transport (unplug, hang-up, UDC unbound): the
    /// union of the Unix-socket and FunctionFS rules (`TransportError.socketDisconnect(_:)` and the
    /// gadget's `FunctionFSTransport.meansDisconnected(_:)`), for callers that do not know which
    /// transport they are on. Prefer the transport's own rule.
    public var meansDisconnected: Bool {
        switch code {
        case .brokenPipe, .connectionReset, .notConnected, .shutDown, .noSuchDevice, .connectionAborted, .ioError: true
        default: false
        }
    }

    public static func == (lhs: SystemCallError, rhs: SystemCallError) -> Bool {
        lhs.systemCall == rhs.systemCall && lhs.errno == rhs.errno
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(systemCall)
        hasher.combine(errno)
    }
}
