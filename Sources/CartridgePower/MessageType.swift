/// The 5-bit message type of a PD message header. The same number names different messages
/// depending on whether the message is a control (0 objects), data, or extended message, so this is
/// an open set of static values plus a lookup of the name.
public struct MessageType: Hashable, Sendable {
    public var rawValue: UInt8
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    // Control messages (no data objects).
    public static let goodCRC = MessageType(1)
    public static let accept = MessageType(3)
    public static let reject = MessageType(4)
    public static let psReady = MessageType(6)
    public static let getSourceCapabilities = MessageType(7)
    public static let softReset = MessageType(13)
    public static let notSupported = MessageType(16)
    public static let getRevision = MessageType(24)

    // Data messages.
    public static let sourceCapabilities = MessageType(1)
    public static let request = MessageType(2)
    public static let sinkCapabilities = MessageType(4)
    public static let enterUSB = MessageType(8)
    public static let eprRequest = MessageType(9)
    public static let eprMode = MessageType(10)
    public static let sourceInfo = MessageType(11)
    public static let revision = MessageType(12)
    public static let vendorDefined = MessageType(15)

    // Extended messages.
    public static let extendedControl = MessageType(16)
    public static let eprSourceCapabilities = MessageType(17)
    public static let eprSinkCapabilities = MessageType(18)

    /// The message's name given how it is framed.
    public func name(extended: Bool, dataObjectCount: Int) -> String {
        if extended {
            switch rawValue {
            case 16: return "Extended_Control"
            case 17: return "EPR_Source_Capabilities"
            case 18: return "EPR_Sink_Capabilities"
            default: return "extended message \(rawValue)"
            }
        }
        if dataObjectCount == 0 {
            switch rawValue {
            case 1: return "GoodCRC"
            case 3: return "Accept"
            case 4: return "Reject"
            case 6: return "PS_RDY"
            case 7: return "Get_Source_Cap"
            case 13: return "Soft_Reset"
            case 16: return "Not_Supported"
            case 24: return "Get_Revision"
            default: return "control message \(rawValue)"
            }
        }
        switch rawValue {
        case 1: return "Source_Capabilities"
        case 2: return "Request"
        case 4: return "Sink_Capabilities"
        case 8: return "Enter_USB"
        case 9: return "EPR_Request"
        case 10: return "EPR_Mode"
        case 11: return "Source_Info"
        case 12: return "Revision"
        case 15: return "Vendor_Defined"
        default: return "data message \(rawValue)"
        }
    }
}
