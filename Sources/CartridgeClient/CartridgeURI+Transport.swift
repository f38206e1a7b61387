public import CartridgeTransport

extension CartridgeURI {
    /// Opens the transport this URI names.
    public func openTransport() async throws(CartridgeClientError) -> any CartridgeTransport {
        switch self {
        case .unix(let path):
            do { return try await UnixSocketTransport.connect(path: path) } catch { throw .transport(error) }
        case .usb:
            throw CartridgeClientError(.transport, "USB transport is not available in this build yet")
        }
    }
}
