/// Where a cartridge is: `unix:/path/to/socket`, `usb` (the only cartridge plugged in) or
/// `usb:SERIAL` (the one whose serial, the image digest prefix, starts with SERIAL).
public enum CartridgeURI: Hashable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case usb(serial: String?)

    /// The default socket path of a local cartridged.
    public static let defaultSocketPath = "/tmp/cartridge.sock"

    public init(parsing text: String) throws(CartridgeClientError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard !path.isEmpty else { throw CartridgeClientError(.invalidURI, "'\(text)': unix: needs a socket path") }
            self = .unix(path: path)
        } else if text == "usb" || text == "usb:" {
            self = .usb(serial: nil)
        } else if text.hasPrefix("usb:") {
            self = .usb(serial: String(text.dropFirst("usb:".count)))
        } else if text.hasPrefix("/") {
            self = .unix(path: text)
        } else {
            throw CartridgeClientError(.invalidURI, "'\(text)' is not unix:/path, usb or usb:SERIAL")
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .usb(let serial): serial.map { "usb:\($0)" } ?? "usb"
        }
    }
}
