/// Where a cartridge is: `unix:/path/to/socket`, `usb` (the only cartridge plugged in),
/// `usb:SERIAL` (the one whose serial, the image digest prefix, starts with SERIAL) or
/// `usb@BUS-PORT.PORT...` (the one plugged in at that bus/port path, as `cartridge list` prints
/// it, e.g. `usb@1-1.2`: the way to pick one of several sticks burned from the same image, which
/// share a serial).
public enum CartridgeURI: Hashable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case usb(serial: String?)
    /// The USB cartridge at a bus/port path (`1-1.2`: bus 1, root port 1, hub port 2).
    case usbPort(path: String)

    /// The default socket path of a local cartridged.
    public static let defaultSocketPath = "/tmp/cartridge.sock"

    public init(parsing text: String) throws(CartridgeClientError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard !path.isEmpty else { throw CartridgeClientError(.invalidURI, "'\(text)': unix: needs a socket path") }
            self = .unix(path: path)
        } else if text == "usb" || text == "usb:" {
            self = .usb(serial: nil)
        } else if text.hasPrefix("usb@") {
            let path = String(text.dropFirst("usb@".count))
            guard CartridgeURI.isPortPath(path) else {
                throw CartridgeClientError(.invalidURI, "'\(text)': usb@ needs a bus/port path such as 1-1.2 (see cartridge list)")
            }
            self = .usbPort(path: path)
        } else if text.hasPrefix("usb:") {
            self = .usb(serial: String(text.dropFirst("usb:".count)))
        } else if text.hasPrefix("/") {
            self = .unix(path: text)
        } else {
            throw CartridgeClientError(.invalidURI, "'\(text)' is not unix:/path, usb, usb:SERIAL or usb@BUS-PORT")
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .usb(let serial): serial.map { "usb:\($0)" } ?? "usb"
        case .usbPort(let path): "usb@\(path)"
        }
    }

    /// `BUS-PORT[.PORT]...` with decimal numbers, as sysfs and `cartridge list` write it.
    static func isPortPath(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, UInt8(parts[0]) != nil else { return false }
        let ports = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return !ports.isEmpty && ports.allSatisfy { UInt8($0) != nil }
    }
}
