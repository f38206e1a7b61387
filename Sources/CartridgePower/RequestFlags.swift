/// Flag bits common to every request data object (bits 27...22).
public struct RequestFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bit 27: GiveBack (deprecated since PD 3.0 for new designs; field 9:0 then holds a minimum).
    public static let giveBack = RequestFlags(rawValue: 1 << 27)
    /// Bit 26: the sink cannot get the power it needs from any offered object.
    public static let capabilityMismatch = RequestFlags(rawValue: 1 << 26)
    /// Bit 25: the sink communicates over USB data lines.
    public static let usbCommunicationCapable = RequestFlags(rawValue: 1 << 25)
    /// Bit 24: the sink asks the source not to suspend it.
    public static let noUSBSuspend = RequestFlags(rawValue: 1 << 24)
    /// Bit 23: unchunked extended messages are supported.
    public static let unchunkedExtendedMessages = RequestFlags(rawValue: 1 << 23)
    /// Bit 22 (PD 3.1): the sink can operate in EPR mode.
    public static let eprModeCapable = RequestFlags(rawValue: 1 << 22)

    public static let definedMask: UInt32 = .mask(27, 22)
}
