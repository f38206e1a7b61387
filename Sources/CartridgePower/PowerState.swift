/// Where a decision's budget comes from.
public struct PowerState: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable, Sendable {
        case contract, capabilityMismatch, powerSupply, typeC, usbConfiguration, staticBudget, safeDefault
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// A PD contract that meets the board's minimum.
    public static let contract = PowerState(.contract)
    /// A PD contract below the board's minimum (Capability Mismatch set).
    public static let capabilityMismatch = PowerState(.capabilityMismatch)
    /// From a power_supply reading (current_max x voltage_max).
    public static let powerSupply = PowerState(.powerSupply)
    /// From the Type-C current advertisement at 5 V.
    public static let typeC = PowerState(.typeC)
    /// From the bMaxPower the host accepted.
    public static let usbConfiguration = PowerState(.usbConfiguration)
    /// From configuration.
    public static let staticBudget = PowerState(.staticBudget)
    /// Nothing usable is known: the safe default.
    public static let safeDefault = PowerState(.safeDefault)

    public var description: String {
        switch value {
        case .contract: "usb-pd"
        case .capabilityMismatch: "usb-pd mismatch"
        case .powerSupply: "power-supply"
        case .typeC: "type-c"
        case .usbConfiguration: "usb-config"
        case .staticBudget: "static"
        case .safeDefault: "safe-default"
        }
    }
}
