#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: its name and the `errno` it left behind.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    public var systemCall: String
    public var errno: Int32

    public init(systemCall: String, errno: Int32) {
        self.systemCall = systemCall
        self.errno = errno
    }

    /// Captures the calling thread's current `errno`.
    public static func current(_ systemCall: String) -> SystemCallError {
        SystemCallError(systemCall: systemCall, errno: Glibc.errno)
    }

    public var description: String {
        "'\(systemCall)' failed with '(\(errno)) \(String(cString: strerror(errno)))'"
    }

    /// Errors that mean the peer went away (unplug, hang-up, UDC unbound). Normal events, not crashes.
    public var meansDisconnected: Bool {
        switch errno {
        case EPIPE, ECONNRESET, ENOTCONN, ESHUTDOWN, ENODEV, ECONNABORTED, EIO: return true
        default: return false
        }
    }
}
