/// One `struct usb_functionfs_event` read from `ep0` (12 bytes: the 8-byte setup packet, the
/// event type, 3 padding bytes). Pure parsing; unknown types are kept, not rejected.
public struct FunctionFSEvent: Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let bind = Kind(rawValue: 0)
        public static let unbind = Kind(rawValue: 1)
        public static let enable = Kind(rawValue: 2)
        public static let disable = Kind(rawValue: 3)
        public static let setup = Kind(rawValue: 4)
        public static let suspend = Kind(rawValue: 5)
        public static let resume = Kind(rawValue: 6)

        public var description: String {
            switch rawValue {
            case 0: "BIND"
            case 1: "UNBIND"
            case 2: "ENABLE"
            case 3: "DISABLE"
            case 4: "SETUP"
            case 5: "SUSPEND"
            case 6: "RESUME"
            default: "UNKNOWN(\(rawValue))"
            }
        }
    }

    /// The control request of a SETUP event (`struct usb_ctrlrequest`).
    public struct SetupPacket: Sendable, Hashable {
        public var requestType: UInt8
        public var request: UInt8
        public var value: UInt16
        public var index: UInt16
        public var length: UInt16

        /// Device-to-host (the host reads `length` bytes); otherwise the host sends `length` bytes.
        public var isDeviceToHost: Bool { requestType & 0x80 != 0 }
    }

    public static let size = 12

    public var kind: Kind
    public var setup: SetupPacket

    /// Parses every whole event in `bytes` (a read may return up to four); a trailing partial
    /// event is ignored (the kernel never splits one).
    public static func parse(_ bytes: some Collection<UInt8>) -> [FunctionFSEvent] {
        let array = Array(bytes)
        var events: [FunctionFSEvent] = []
        var offset = 0
        while offset + size <= array.count {
            let setup = SetupPacket(
                requestType: array[offset], request: array[offset + 1],
                value: UInt16(array[offset + 2]) | UInt16(array[offset + 3]) << 8,
                index: UInt16(array[offset + 4]) | UInt16(array[offset + 5]) << 8,
                length: UInt16(array[offset + 6]) | UInt16(array[offset + 7]) << 8)
            events.append(FunctionFSEvent(kind: Kind(rawValue: array[offset + 8]), setup: setup))
            offset += size
        }
        return events
    }

    public var description: String {
        guard kind == .setup else { return kind.description }
        let hex = { (value: UInt16) in String(value, radix: 16) }
        return "SETUP(type 0x\(String(setup.requestType, radix: 16)) req 0x\(String(setup.request, radix: 16)) "
            + "value 0x\(hex(setup.value)) index 0x\(hex(setup.index)) length \(setup.length))"
    }
}
