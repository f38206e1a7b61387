/// Capability flags of a Fixed Supply PDO (source role). They carry meaning only in the
/// vSafe5V object at position 1; in every other position bits 29...22 are reserved.
public struct FixedSupplyFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bit 29: the source can also act as a sink.
    public static let dualRolePower = FixedSupplyFlags(rawValue: 1 << 29)
    /// Bit 28: the sink must honour USB suspend.
    public static let usbSuspendSupported = FixedSupplyFlags(rawValue: 1 << 28)
    /// Bit 27: the source is powered from an external (unconstrained) supply.
    public static let unconstrainedPower = FixedSupplyFlags(rawValue: 1 << 27)
    /// Bit 26: the source can communicate over USB data lines.
    public static let usbCommunicationCapable = FixedSupplyFlags(rawValue: 1 << 26)
    /// Bit 25: the port can swap data roles.
    public static let dualRoleData = FixedSupplyFlags(rawValue: 1 << 25)
    /// Bit 24: unchunked extended messages are supported.
    public static let unchunkedExtendedMessages = FixedSupplyFlags(rawValue: 1 << 24)
    /// Bit 23 (PD 3.1): the source can enter EPR mode.
    public static let eprModeCapable = FixedSupplyFlags(rawValue: 1 << 23)

    /// Bits 29...23, every defined flag.
    public static let definedMask: UInt32 = .mask(29, 23)
    /// Bits 29...22: reserved in every Fixed PDO except position 1.
    public static let positionOneOnlyMask: UInt32 = .mask(29, 22)
}
