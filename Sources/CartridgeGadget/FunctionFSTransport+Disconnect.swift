public import CartridgeSystem

extension FunctionFSTransport {
    /// The FunctionFS rule for "the host went away", for endpoint files and ep0: the endpoint was
    /// disabled (ESHUTDOWN: the host deconfigured the function, or the cable was pulled), the
    /// function was unbound from its UDC (ENODEV), a request was dequeued by the disconnect
    /// (ECONNRESET), or the controller aborted the transfer (EIO). Anything else (EBADF, EINVAL,
    /// a halted endpoint's EPIPE) is a fault to report, not a disconnect.
    ///
    /// Pass it to `TransportError.from(_:context:meansDisconnected:)`.
    public static func meansDisconnected(_ error: SystemCallError) -> Bool {
        switch error.code {
        case .shutDown, .noSuchDevice, .connectionReset, .ioError: true
        default: false
        }
    }
}
