import CartridgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// A filesystem path as a `sockaddr_un`.
struct UnixSocketAddress {
    var storage = sockaddr_un()

    init(path: String) throws(TransportError) {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw TransportError(.invalidArgument, "socket path must be 1...\(capacity - 1) bytes: '\(path)'")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// A new stream socket of the Unix domain (close-on-exec), for binding or connecting to this
    /// address; `context` names it in the error.
    static func makeSocket(context: String) throws(TransportError) -> OwnedDescriptor {
        do {
            return OwnedDescriptor(adopting: try SystemCall.retryingInterrupts("socket") {
                socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            })
        } catch {
            throw TransportError.from(error, context: context, meansDisconnected: TransportError.socketDisconnect)
        }
    }
}
