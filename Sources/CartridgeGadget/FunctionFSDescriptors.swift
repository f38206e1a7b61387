/// The blobs written to FunctionFS `ep0` before the gadget can bind: the v2 descriptor blob
/// (full, high and super speed, plus optional Microsoft OS 1.0 descriptors) and the strings blob.
///
/// One interface (vendor class 0xFF, subclass 0xCA, protocol 0x01) with one bulk OUT endpoint
/// (FunctionFS `ep1`) and one bulk IN endpoint (`ep2`). Endpoint numbers are the function's own;
/// the UDC may renumber them (dummy_udc does), so hosts read addresses from the descriptors.
/// Pure: no I/O, all fields little-endian as in `linux/usb/functionfs.h`.
public struct FunctionFSDescriptors: Sendable, Hashable {
    /// `FUNCTIONFS_DESCRIPTORS_MAGIC_V2`.
    static let descriptorsMagic: UInt32 = 3
    /// `FUNCTIONFS_STRINGS_MAGIC`.
    static let stringsMagic: UInt32 = 2
    static let hasFullSpeed: UInt32 = 1
    static let hasHighSpeed: UInt32 = 2
    static let hasSuperSpeed: UInt32 = 4
    static let hasMicrosoftOS: UInt32 = 8

    /// Bulk wMaxPacketSize at full, high and super speed.
    public static let fullSpeedPacketSize: UInt16 = 64
    public static let highSpeedPacketSize: UInt16 = 512
    public static let superSpeedPacketSize: UInt16 = 1024
    /// SuperSpeed companion bMaxBurst (packets per burst minus one), as adbd uses.
    public static let superSpeedMaxBurst: UInt8 = 4

    public var interfaceClass: UInt8
    public var interfaceSubclass: UInt8
    public var interfaceProtocol: UInt8
    public var interfaceName: String
    public var microsoftOSDescriptors: Bool

    public init(
        interfaceClass: UInt8 = GadgetConfiguration.interfaceClass,
        interfaceSubclass: UInt8 = GadgetConfiguration.interfaceSubclass,
        interfaceProtocol: UInt8 = GadgetConfiguration.interfaceProtocol,
        interfaceName: String = "Cartridge",
        microsoftOSDescriptors: Bool = false
    ) {
        self.interfaceClass = interfaceClass
        self.interfaceSubclass = interfaceSubclass
        self.interfaceProtocol = interfaceProtocol
        self.interfaceName = interfaceName
        self.microsoftOSDescriptors = microsoftOSDescriptors
    }

    /// The v2 descriptor blob.
    public func descriptorBlob() -> [UInt8] {
        var flags = Self.hasFullSpeed | Self.hasHighSpeed | Self.hasSuperSpeed
        if microsoftOSDescriptors { flags |= Self.hasMicrosoftOS }
        var body: [UInt8] = []
        body.appendLittleEndian(UInt32(3))  // full-speed descriptor count
        body.appendLittleEndian(UInt32(3))  // high-speed
        body.appendLittleEndian(UInt32(5))  // super-speed (endpoints each followed by a companion)
        if microsoftOSDescriptors { body.appendLittleEndian(UInt32(1)) }
        for packetSize in [Self.fullSpeedPacketSize, Self.highSpeedPacketSize] {
            body += interfaceDescriptor()
            body += endpointDescriptor(address: 0x01, packetSize: packetSize)
            body += endpointDescriptor(address: 0x82, packetSize: packetSize)
        }
        body += interfaceDescriptor()
        body += endpointDescriptor(address: 0x01, packetSize: Self.superSpeedPacketSize)
        body += superSpeedCompanion()
        body += endpointDescriptor(address: 0x82, packetSize: Self.superSpeedPacketSize)
        body += superSpeedCompanion()
        if microsoftOSDescriptors { body += extendedCompatibleID() }

        var blob: [UInt8] = []
        blob.appendLittleEndian(Self.descriptorsMagic)
        blob.appendLittleEndian(UInt32(12 + body.count))
        blob.appendLittleEndian(flags)
        return blob + body
    }

    /// The strings blob: one language (en-US), one string (the interface name, index 1).
    public func stringBlob() -> [UInt8] {
        let text = Array(interfaceName.utf8) + [0]
        var blob: [UInt8] = []
        blob.appendLittleEndian(Self.stringsMagic)
        blob.appendLittleEndian(UInt32(16 + 2 + text.count))
        blob.appendLittleEndian(UInt32(1))  // strings per language
        blob.appendLittleEndian(UInt32(1))  // languages
        blob.appendLittleEndian(UInt16(0x0409))
        return blob + text
    }

    private func interfaceDescriptor() -> [UInt8] {
        // bLength, INTERFACE, bInterfaceNumber, bAlternateSetting, bNumEndpoints, class, subclass, protocol, iInterface
        [9, 0x04, 0, 0, 2, interfaceClass, interfaceSubclass, interfaceProtocol, 1]
    }

    private func endpointDescriptor(address: UInt8, packetSize: UInt16) -> [UInt8] {
        // bLength, ENDPOINT, bEndpointAddress, bmAttributes (bulk), wMaxPacketSize, bInterval
        var bytes: [UInt8] = [7, 0x05, address, 0x02]
        bytes.appendLittleEndian(packetSize)
        bytes.append(0)
        return bytes
    }

    private func superSpeedCompanion() -> [UInt8] {
        // bLength, SS_ENDPOINT_COMP, bMaxBurst, bmAttributes, wBytesPerInterval (0 for bulk)
        [6, 0x30, Self.superSpeedMaxBurst, 0, 0, 0]
    }

    /// Microsoft OS 1.0 Extended Compat ID (wIndex 4): interface 0 is "WINUSB".
    private func extendedCompatibleID() -> [UInt8] {
        var entry: [UInt8] = [0, 1]  // bFirstInterfaceNumber, Reserved1 (must be 1)
        entry += Array("WINUSB".utf8) + [0, 0]  // CompatibleID[8]
        entry += [UInt8](repeating: 0, count: 8)  // SubCompatibleID[8]
        entry += [UInt8](repeating: 0, count: 6)  // Reserved2[6]
        var header: [UInt8] = [0]  // interface
        header.appendLittleEndian(UInt32(11 + entry.count))  // dwLength
        header.appendLittleEndian(UInt16(1))  // bcdVersion
        header.appendLittleEndian(UInt16(4))  // wIndex: extended compat ID
        header += [1, 0]  // bCount, Reserved
        return header + entry
    }
}

extension [UInt8] {
    mutating func appendLittleEndian<Integer: FixedWidthInteger>(_ value: Integer) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
