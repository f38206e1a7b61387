public import CartridgeTransport
import CartridgeUSBHost

extension CartridgeURI {
    /// Opens the transport this URI names.
    public func openTransport() async throws(CartridgeClientError) -> any CartridgeTransport {
        switch self {
        case .unix(let path):
            do { return try await UnixSocketTransport.connect(path: path) } catch { throw .transport(error) }
        case .usb(let serial):
            // A fresh libusb context per connection: it sees cartridges replugged since the last one.
            do { return try await LibUSBContext().open(serial: serial) } catch { throw .transport(error.transportError) }
        case .usbPort(let path):
            do { return try await LibUSBContext().open(portPath: path) } catch { throw .transport(error.transportError) }
        }
    }
}
