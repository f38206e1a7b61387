#if canImport(Glibc)
import Glibc
#endif

/// The USB device controllers (UDCs) of this machine, as listed in `/sys/class/udc`.
public struct USBDeviceControllers: Sendable {
    public var sysfsDirectory: String

    public init(sysfsDirectory: String = "/sys/class/udc") {
        self.sysfsDirectory = sysfsDirectory
    }

    /// Controller names, sorted (`dummy_udc.0`, `fe980000.usb`, ...).
    public func names() -> [String] {
        guard let directory = opendir(sysfsDirectory) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    /// The controller to bind: `requested` if it exists, else the first one.
    public func choose(requested: String?) throws(GadgetError) -> String {
        let available = names()
        if let requested {
            guard available.contains(requested) else {
                throw GadgetError(
                    .noController,
                    "UDC '\(requested)' not found in \(sysfsDirectory) (available: \(available.isEmpty ? "none" : available.joined(separator: ", ")))")
            }
            return requested
        }
        guard let first = available.first else {
            throw GadgetError(
                .noController,
                "no USB device controller in \(sysfsDirectory): this board has no device-mode port, or its UDC driver "
                    + "(e.g. dwc2 with dr_mode=peripheral) is not loaded")
        }
        return first
    }

    /// `current_speed` of a controller (`high-speed`, `super-speed`, `UNKNOWN` when not connected).
    public func currentSpeed(of controller: String) -> String? {
        attribute("current_speed", of: controller)
    }

    /// `state` of a controller (`configured`, `not attached`, `suspended`, ...).
    public func state(of controller: String) -> String? {
        attribute("state", of: controller)
    }

    private func attribute(_ name: String, of controller: String) -> String? {
        ConfigFSGadget.readFile("\(sysfsDirectory)/\(controller)/\(name)").map {
            String($0.reversed().drop { $0.isWhitespace }.reversed())
        }
    }
}
