#if canImport(Glibc)
import Glibc
#endif

/// An `errno` value with a name: code that sorts failures says `.connectionRefused`, not `111`.
///
/// An open set: any value can be wrapped (`Errno(rawValue:)`); the static lets name the ones the
/// cartridge makes decisions on. The description is the C name (`ECONNREFUSED`), or the number.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno` now.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// EPERM: the operation needs a privilege the process lacks (mount, configfs).
    public static let notPermitted = Errno(rawValue: EPERM)
    /// ENOENT: no such file or directory.
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// EINTR: a signal interrupted a blocking call; retried by `SystemCall.retryingInterrupts`.
    public static let interrupted = Errno(rawValue: EINTR)
    /// EIO: a low-level I/O error (on USB: the transfer failed, often because the cable went).
    public static let ioError = Errno(rawValue: EIO)
    /// EBADF: not an open descriptor (a programming error, or a descriptor already closed).
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// EAGAIN / EWOULDBLOCK: a non-blocking call found nothing to do.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// EACCES: the file mode or a security policy refuses access.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// EBUSY: the resource (a UDC, a mount point) is in use.
    public static let busy = Errno(rawValue: EBUSY)
    /// ENODEV: the device went away (a FunctionFS function whose gadget was unbound).
    public static let noSuchDevice = Errno(rawValue: ENODEV)
    /// ENOTDIR: a path component is not a directory.
    public static let notADirectory = Errno(rawValue: ENOTDIR)
    /// EISDIR: the descriptor is a directory.
    public static let isADirectory = Errno(rawValue: EISDIR)
    /// EINVAL: an argument the call does not accept.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// EFBIG: a file larger than allowed.
    public static let fileTooLarge = Errno(rawValue: EFBIG)
    /// EPIPE: writing to a socket or pipe whose reader is gone.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// ENAMETOOLONG: a path longer than the call (or `sockaddr_un`) takes.
    public static let nameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// EIDRM: FunctionFS ep0: the pending SETUP was cancelled by a newer event (read again).
    public static let identifierRemoved = Errno(rawValue: EIDRM)
    /// ECONNABORTED: a connection was aborted before `accept` took it.
    public static let connectionAborted = Errno(rawValue: ECONNABORTED)
    /// ECONNRESET: the peer reset the connection (on USB: a request dequeued by a disconnect).
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// ENOTCONN: the socket is not (or no longer) connected.
    public static let notConnected = Errno(rawValue: ENOTCONN)
    /// ESHUTDOWN: the other side shut the connection down (a disabled FunctionFS endpoint).
    public static let shutDown = Errno(rawValue: ESHUTDOWN)
    /// ETIMEDOUT: the operation timed out.
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// ECONNREFUSED: nobody listens at the address.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// ECANCELED: the operation was cancelled (by this process).
    public static let cancelled = Errno(rawValue: ECANCELED)

    /// The C name of the named values; other values print as their number.
    public var description: String {
        switch rawValue {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case ENODEV: "ENODEV"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case EFBIG: "EFBIG"
        case EPIPE: "EPIPE"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case EIDRM: "EIDRM"
        case ECONNABORTED: "ECONNABORTED"
        case ECONNRESET: "ECONNRESET"
        case ENOTCONN: "ENOTCONN"
        case ESHUTDOWN: "ESHUTDOWN"
        case ETIMEDOUT: "ETIMEDOUT"
        case ECONNREFUSED: "ECONNREFUSED"
        case ECANCELED: "ECANCELED"
        default: "errno \(rawValue)"
        }
    }

    /// The C library's sentence for this value (`strerror`).
    public var explanation: String { String(cString: strerror(rawValue)) }
}
