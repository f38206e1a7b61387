#if canImport(Glibc)
import Glibc
#endif

/// Sends service status to systemd (`sd_notify(3)` without libsystemd): one `AF_UNIX` datagram
/// to the socket named by `$NOTIFY_SOCKET`, where a leading `@` names an abstract socket.
///
/// Without `$NOTIFY_SOCKET` (not started by systemd, or `Type=` is not `notify`) every call is a
/// no-op, so the daemon can call it unconditionally.
public struct SystemdNotifier: Sendable {
    /// The socket path as given in the environment, or nil when notifications are off.
    public let socketPath: String?

    public init(environment socketPath: String? = SystemdNotifier.environmentSocketPath()) {
        self.socketPath = (socketPath?.isEmpty ?? true) ? nil : socketPath
    }

    public static func environmentSocketPath() -> String? {
        guard let value = getenv("NOTIFY_SOCKET") else { return nil }
        return String(cString: value)
    }

    /// Whether `$WATCHDOG_USEC` asks for keep-alives, and how often to send them (half the
    /// watchdog period, as sd_watchdog_enabled(3) recommends).
    public static func watchdogInterval() -> Duration? {
        guard let value = getenv("WATCHDOG_USEC"), let micros = UInt64(String(cString: value)), micros > 0 else {
            return nil
        }
        return .microseconds(Int64(micros / 2))
    }

    /// `READY=1`: start-up finished (for cartridged: the UDC is bound).
    public func ready(status: String? = nil) throws(SystemCallError) {
        try send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `WATCHDOG=1`: the keep-alive for `WatchdogSec=`.
    public func watchdog() throws(SystemCallError) { try send(["WATCHDOG=1"]) }

    /// `STOPPING=1`: a graceful shutdown began.
    public func stopping() throws(SystemCallError) { try send(["STOPPING=1"]) }

    /// `STATUS=...`: free-form status shown by `systemctl status`.
    public func status(_ text: String) throws(SystemCallError) { try send(["STATUS=\(text)"]) }

    /// Sends `assignments` (e.g. `["READY=1"]`) as one newline-separated datagram.
    public func send(_ assignments: [String]) throws(SystemCallError) {
        guard let socketPath else { return }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { throw SystemCallError(systemCall: "sd_notify", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            if !abstract { raw[pathBytes.count] = 0 }
        }
        // Abstract names are not NUL-terminated: the address length says where they end.
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let length = socklen_t(pathOffset + pathBytes.count + (abstract ? 0 : 1))
        let socket = OwnedDescriptor(
            adopting: try SystemCall.retryingInterrupts("socket") {
                Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            })
        let message = Array(assignments.joined(separator: "\n").utf8)
        let sent = try SystemCall.retryingInterrupts("sendto") {
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    message.withUnsafeBytes { sendto(socket.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
                }
            }
        }
        // A datagram goes whole or not at all; a short count would be a kernel bug.
        guard sent == message.count else { throw SystemCallError(systemCall: "sendto", errno: .ioError) }
    }
}
