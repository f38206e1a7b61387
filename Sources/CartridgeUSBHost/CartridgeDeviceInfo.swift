/// A cartridge found on the USB bus: where it is and what it says about itself.
public struct CartridgeDeviceInfo: Sendable, Hashable, CustomStringConvertible {
    public var busNumber: UInt8
    public var deviceAddress: UInt8
    /// Port numbers from the root hub (`[1, 2]` is `1-1.2` on bus 1).
    public var portNumbers: [UInt8]
    public var vendorID: UInt16
    public var productID: UInt16
    /// The model name (iProduct); nil when the device could not be opened to read strings.
    public var product: String?
    public var manufacturer: String?
    /// The image digest prefix (iSerialNumber); nil when unreadable.
    public var serialNumber: String?
    /// The cartridge interface number within the active configuration.
    public var interfaceNumber: UInt8
    /// Why strings are missing (e.g. permission denied), if they are.
    public var problem: String?

    public init(
        busNumber: UInt8, deviceAddress: UInt8, portNumbers: [UInt8], vendorID: UInt16, productID: UInt16,
        product: String? = nil, manufacturer: String? = nil, serialNumber: String? = nil, interfaceNumber: UInt8 = 0,
        problem: String? = nil
    ) {
        self.busNumber = busNumber
        self.deviceAddress = deviceAddress
        self.portNumbers = portNumbers
        self.vendorID = vendorID
        self.productID = productID
        self.product = product
        self.manufacturer = manufacturer
        self.serialNumber = serialNumber
        self.interfaceNumber = interfaceNumber
        self.problem = problem
    }

    /// The sysfs-style location: `1-1.2`.
    public var location: String {
        "\(busNumber)-" + (portNumbers.isEmpty ? "0" : portNumbers.map(String.init).joined(separator: "."))
    }

    /// `Bus 001 Device 002: ID 1209:0001`, as lsusb prints it.
    public var busAddress: String {
        func padded(_ value: UInt8) -> String { String(repeating: "0", count: 3 - String(value).count) + String(value) }
        func hex(_ value: UInt16) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 4 - text.count) + text
        }
        return "Bus \(padded(busNumber)) Device \(padded(deviceAddress)): ID \(hex(vendorID)):\(hex(productID))"
    }

    public var description: String {
        var text = "\(busAddress) at \(location): \(product ?? "?") serial \(serialNumber ?? "?")"
        if let problem { text += " (\(problem))" }
        return text
    }

    /// Whether `serial` selects this cartridge (an exact match or a prefix of the digest).
    public func matches(serial: String) -> Bool {
        guard let serialNumber else { return false }
        return serialNumber.lowercased().hasPrefix(serial.lowercased())
    }
}
