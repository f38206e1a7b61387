/// A flat, Sendable summary of a decision for the daemon's POWER message (the daemon owns the
/// wire encoding; these are its plain fields).
public struct PowerSummary: Hashable, Sendable {
    public var sourceName: String
    /// "usb-pd", "type-c", "static", "safe-default", ...
    public var stateName: String
    /// One line: the contract or fallback, then the reasons.
    public var stateText: String
    public var offeredObjects: [UInt32]
    public var offeredDescriptions: [String]
    /// 1-based, 0 without a PD contract.
    public var contractPosition: UInt8
    public var contractMillivolts: UInt32
    public var contractMilliamps: UInt32
    public var budgetMilliwatts: UInt32
    public var workerCount: Int
    /// nil = uncapped.
    public var tokensPerSecondCap: Double?
    public var estimatedDrawMilliwatts: UInt32
    /// The gadget's bMaxPower in mA (after unit rounding).
    public var maxPowerMilliamps: UInt32
    /// The bMaxPower descriptor byte.
    public var maxPowerDescriptorValue: UInt8
    /// The encoded request data object (RDO) the policy chose, 0 without a PD contract.
    public var requestDataObject: UInt32 = 0
}
