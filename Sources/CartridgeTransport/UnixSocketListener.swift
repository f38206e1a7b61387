import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A listening Unix-domain socket: each accepted connection is one host session.
public final class UnixSocketListener: CartridgeListener {
    private let descriptor: OwnedDescriptor
    private let acceptor: DedicatedThread
    private let closed = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    public let path: String

    /// The default mode of the socket file: owner and group may connect, others may not.
    public static let defaultMode: mode_t = 0o660

    /// Binds and listens at `path`. A stale socket file left by a crashed daemon is replaced;
    /// a path held by a live listener is refused with `.busy`, and a path that exists but is not
    /// a socket (a regular file, a directory, a link) with `.invalidArgument`: it is never deleted.
    ///
    /// The socket file gets `mode` (not the umask's choice) and, when given, the group `group`,
    /// both before `listen`, so no host can connect while the permissions are still wrong.
    public init(
        path: String, mode: mode_t = UnixSocketListener.defaultMode, group: gid_t? = nil, backlog: Int32 = SOMAXCONN
    ) throws(TransportError) {
        let address = try UnixSocketAddress(path: path)
        if UnixSocketListener.isLive(path: path) {
            throw TransportError(.busy, "another cartridged is already listening at unix:\(path)")
        }
        var existing = stat()
        if lstat(path, &existing) == 0 {
            guard existing.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK) else {
                throw TransportError(
                    .invalidArgument, "\(path) exists and is not a socket; refusing to replace it (remove it or choose another --socket path)")
            }
            unlink(path)  // a stale socket: nobody answered the probe above
        }
        // On every error path below the descriptor closes itself (OwnedDescriptor).
        let descriptor = try UnixSocketAddress.makeSocket(context: "unix:\(path)")
        if address.withSockaddr({ bind(descriptor.rawValue, $0, $1) }) != 0 {
            throw TransportError.from(.current("bind"), context: "cannot bind unix:\(path)", meansDisconnected: TransportError.socketDisconnect)
        }
        if chmod(path, mode & 0o777) != 0 {
            let error = SystemCallError.current("chmod")
            unlink(path)
            throw TransportError.from(
                error, context: "cannot set mode \(String(mode, radix: 8)) on unix:\(path)", meansDisconnected: TransportError.socketDisconnect)
        }
        if let group, chown(path, uid_t.max, group) != 0 {
            let error = SystemCallError.current("chown")
            unlink(path)
            throw TransportError.from(
                error, context: "cannot give unix:\(path) to group \(group)", meansDisconnected: TransportError.socketDisconnect)
        }
        if listen(descriptor.rawValue, backlog) != 0 {
            throw TransportError.from(
                .current("listen"), context: "cannot listen on unix:\(path)", meansDisconnected: TransportError.socketDisconnect)
        }
        self.descriptor = descriptor
        self.path = path
        acceptor = DedicatedThread(name: "sock-accept")
    }

    deinit { close() }

    private static func isLive(path: String) -> Bool {
        guard let address = try? UnixSocketAddress(path: path) else { return false }
        guard let owned = try? UnixSocketAddress.makeSocket(context: "unix:\(path)") else { return false }
        defer { withExtendedLifetime(owned) {} }  // closed on return, not before the connect
        return address.withSockaddr { connect(owned.rawValue, $0, $1) } == 0
    }

    public var endpointDescription: String { "unix:\(path)" }

    public func accept() async throws(TransportError) -> (any CartridgeTransport)? {
        if closed.load(ordering: .acquiring) { return nil }
        let descriptor = self.descriptor.rawValue
        let outcome: Result<OwnedDescriptor, SystemCallError>
        do {
            outcome = try await acceptor.run {
                while true {
                    do throws(SystemCallError) {
                        return .success(OwnedDescriptor(adopting: try SystemCall.retryingInterrupts("accept") { Glibc.accept(descriptor, nil, nil) }))
                    } catch where error.code == .connectionAborted {
                        continue  // that client gave up before we took it; wait for the next
                    } catch {
                        return .failure(error)
                    }
                }
            }
        } catch {
            return nil
        }
        switch outcome {
        case .success(let client):
            if closed.load(ordering: .acquiring) { return nil }  // `client` closes itself
            let number = connections.wrappingAdd(1, ordering: .relaxed).newValue
            return UnixSocketTransport(owning: client, peerDescription: "unix:\(path)#\(number)")
        case .failure(let error):
            if closed.load(ordering: .acquiring) { return nil }
            throw TransportError.from(error, context: "accept on unix:\(path)", meansDisconnected: TransportError.socketDisconnect)
        }
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(descriptor.rawValue, Int32(SHUT_RDWR))  // wakes a blocked accept on Linux
        acceptor.shutdown()
        try? descriptor.close()
        unlink(path)
    }
}
