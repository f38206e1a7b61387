/// The PD contract the policy requests: which object, at what voltage and current, and the RDO.
public struct PowerContract: Hashable, Sendable, CustomStringConvertible {
    public var offered: OfferedObject
    /// Output voltage of the contract (the minimum for variable and battery supplies).
    public var millivolts: UInt32
    /// Operating current requested.
    public var milliamps: UInt32
    public var request: RequestDataObject
    /// The encoded RDO.
    public var requestRaw: UInt32
    /// The contract uses an EPR object (position 8...11): send it in EPR_Request.
    public var isEPR: Bool

    public var position: Int { offered.position }
    public var milliwatts: UInt32 { PowerUnits.milliwatts(millivolts: millivolts, milliamps: milliamps) }
    public var isCapabilityMismatch: Bool { request.flags.contains(.capabilityMismatch) }

    public var description: String {
        "\(offered.object) (PDO \(position)) at \(PowerUnits.volts(millivolts)) \(PowerUnits.amps(milliamps))"
    }
}
