import ArgumentParser
import CartridgeTransport

#if canImport(Glibc)
import Glibc
#endif

/// `--socket PATH [--socket-mode 0660] [--socket-group NAME]`: serve over a Unix-domain socket.
/// Who may connect is decided by the socket file's mode and group (docs/PROTOCOL.md 1).
struct SocketOptions: ParsableArguments {
    @Option(name: .long, help: "Listen on this Unix-domain socket path (a stale socket there is replaced; any other file is refused).")
    var socket: String?

    @Option(name: .long, help: "Mode of the socket file, octal (who may connect). Default 0660: the owner and the socket's group.")
    var socketMode: String = "0660"

    @Option(name: .long, help: "Group of the socket file (name or numeric id); its members may connect. Default: the daemon's group.")
    var socketGroup: String?

    /// The parsed `--socket-mode`.
    func mode() throws -> mode_t {
        let digits = socketMode.hasPrefix("0o") ? String(socketMode.dropFirst(2)) : socketMode
        guard let value = mode_t(digits, radix: 8), value <= 0o777 else {
            throw ValidationError("--socket-mode must be octal permission bits such as 0660, not '\(socketMode)'")
        }
        return value
    }

    /// The parsed `--socket-group`, nil to keep the daemon's own group.
    func groupID() throws -> gid_t? {
        guard let socketGroup else { return nil }
        if let number = gid_t(socketGroup) { return number }
        guard let entry = getgrnam(socketGroup) else { throw ValidationError("--socket-group: no group named '\(socketGroup)'") }
        return entry.pointee.gr_gid
    }

    func validate() throws {
        _ = try mode()
        _ = try groupID()
        if socket == nil && (socketGroup != nil || socketMode != "0660") {
            throw ValidationError("--socket-mode and --socket-group need --socket")
        }
    }

    func makeListener() throws(TransportError) -> UnixSocketListener? {
        guard let socket else { return nil }
        let mode = (try? self.mode()) ?? UnixSocketListener.defaultMode
        let group = (try? groupID()) ?? nil
        return try UnixSocketListener(path: socket, mode: mode, group: group)
    }
}
