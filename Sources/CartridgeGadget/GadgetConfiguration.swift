/// Everything that describes the cartridge gadget: identity, power, and where it lives.
public struct GadgetConfiguration: Sendable, Hashable {
    /// pid.codes, the open-source hardware vendor ID.
    public static let vendorID: UInt16 = 0x1209
    /// A pid.codes *test* PID: fine for development, never for redistributed devices.
    public static let testProductID: UInt16 = 0x0001
    /// pid.codes reserves 0x0001...0x0010 for testing.
    public static let testProductIDs: ClosedRange<UInt16> = 0x0001...0x0010

    /// The interface triple hosts match on (vendor class; see docs/PROTOCOL.md).
    public static let interfaceClass: UInt8 = 0xFF
    public static let interfaceSubclass: UInt8 = 0xCA
    public static let interfaceProtocol: UInt8 = 0x01

    public var productID: UInt16
    public var manufacturer: String
    /// The model name.
    public var product: String
    /// The image digest prefix; hosts select a cartridge by it (`usb:SERIAL`).
    public var serialNumber: String
    /// Current the device asks for in its configuration, in mA (0...500 on USB 2, up to 900 on USB 3).
    public var maxPowerMilliamps: Int
    /// The UDC to bind (`dummy_udc.0`, `fe980000.usb`); nil picks the only/first one in /sys/class/udc.
    public var controller: String?
    /// configfs gadget directory name (`/sys/kernel/config/usb_gadget/<name>`).
    public var gadgetName: String
    /// FunctionFS instance name (the `ffs.<instance>` function and the mount source).
    public var functionInstance: String
    /// Where FunctionFS is mounted.
    public var mountPoint: String
    public var configfsRoot: String
    /// bcdDevice, the device release number.
    public var deviceRelease: UInt16
    /// Also offer Microsoft OS 1.0 descriptors (WinUSB compatible ID) so Windows binds WinUSB without an INF.
    public var microsoftOSDescriptors: Bool

    public init(
        productID: UInt16 = GadgetConfiguration.testProductID,
        manufacturer: String = "Cartridge",
        product: String,
        serialNumber: String,
        maxPowerMilliamps: Int = 500,
        controller: String? = nil,
        gadgetName: String = "cartridge",
        functionInstance: String = "cartridge",
        mountPoint: String = "/run/cartridged/ffs",
        configfsRoot: String = "/sys/kernel/config",
        deviceRelease: UInt16 = 0x0100,
        microsoftOSDescriptors: Bool = true
    ) {
        self.productID = productID
        self.manufacturer = manufacturer
        self.product = product
        self.serialNumber = serialNumber
        self.maxPowerMilliamps = maxPowerMilliamps
        self.controller = controller
        self.gadgetName = gadgetName
        self.functionInstance = functionInstance
        self.mountPoint = mountPoint
        self.configfsRoot = configfsRoot
        self.deviceRelease = deviceRelease
        self.microsoftOSDescriptors = microsoftOSDescriptors
    }

    public var usesTestProductID: Bool { GadgetConfiguration.testProductIDs.contains(productID) }

    /// Checks the values configfs and the USB spec would reject, with a message naming the field.
    public func validate() throws(GadgetError) {
        guard productID != 0 else { throw GadgetError(.invalidConfiguration, "product ID 0x0000 is not valid") }
        guard (0...900).contains(maxPowerMilliamps) else {
            throw GadgetError(.invalidConfiguration, "bMaxPower \(maxPowerMilliamps) mA is outside 0...900 mA")
        }
        for (field, value) in [("manufacturer", manufacturer), ("product", product), ("serial number", serialNumber)] {
            guard !value.isEmpty, value.utf16.count <= 126 else {
                throw GadgetError(.invalidConfiguration, "\(field) must be 1...126 UTF-16 units: '\(value)'")
            }
        }
        for (field, value) in [("gadget name", gadgetName), ("function instance", functionInstance)] {
            guard !value.isEmpty, !value.contains("/"), !value.contains("."), value.utf8.count < 64 else {
                throw GadgetError(.invalidConfiguration, "\(field) must be a plain directory name: '\(value)'")
            }
        }
    }
}
