import CartridgeSystem
import CartridgeTransport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// How failed system calls become transport errors: by errno name, and by each transport's
/// own rule for what a disconnect is.
@Suite("TransportError from system calls")
struct TransportErrorTests {
    @Test(arguments: [
        (EACCES, TransportError.Code.permissionDenied), (EPERM, .permissionDenied), (EBUSY, .busy), (ENOENT, .notFound),
        (ETIMEDOUT, .timedOut), (ECONNREFUSED, .notFound), (EINVAL, .io), (ENOMEM, .io),
        (EPIPE, .disconnected), (ECONNRESET, .disconnected), (ENOTCONN, .disconnected), (ECONNABORTED, .disconnected),
    ])
    func socketErrorsAreSortedByErrnoName(errno: Int32, expected: TransportError.Code) {
        let error = TransportError.from(
            SystemCallError(systemCall: "read", errno: errno), context: "receive from unix:/test",
            meansDisconnected: TransportError.socketDisconnect)
        #expect(error.code == expected)
        #expect(error.cause as? SystemCallError == SystemCallError(systemCall: "read", errno: errno))
        #expect(error.message.hasPrefix("receive from unix:/test: 'read' failed: "))
    }

    /// ESHUTDOWN and ENODEV are FunctionFS's disconnects; on a socket they are faults to report.
    @Test(arguments: [ESHUTDOWN, ENODEV])
    func usbDisconnectErrnosAreNotSocketDisconnects(errno: Int32) {
        let error = SystemCallError(systemCall: "read", errno: errno)
        #expect(!TransportError.socketDisconnect(error))
        #expect(TransportError.from(error, context: "x", meansDisconnected: TransportError.socketDisconnect).code == .io)
        #expect(error.meansDisconnected, "the transport-independent rule keeps them")
    }

    @Test func theDescriptionShowsTheCauseAsATree() {
        let error = TransportError.from(
            SystemCallError(systemCall: "connect", errno: ECONNREFUSED), context: "cannot connect to unix:/test",
            meansDisconnected: TransportError.socketDisconnect)
        let lines = error.description.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("TransportError.notFound: cannot connect to unix:/test: 'connect' failed: Connection refused ["))
        #expect(lines[1].hasPrefix("└─ Cause: SystemCallError.ECONNREFUSED: 'connect' failed: Connection refused ["))
    }
}
