/// The kind of a power data object, which decides how a request for it is laid out.
public enum PowerObjectKind: Hashable, Sendable, CustomStringConvertible {
    case fixed, variable, battery, programmable, eprAdjustable, sprAdjustable

    /// The kind of `object`, nil for empty and reserved objects (which cannot be requested).
    public init?(_ object: PowerDataObject) {
        switch object {
        case .fixed: self = .fixed
        case .variable: self = .variable
        case .battery: self = .battery
        case .programmable: self = .programmable
        case .eprAdjustable: self = .eprAdjustable
        case .sprAdjustable: self = .sprAdjustable
        case .empty, .reservedAugmented: return nil
        }
    }

    public var description: String {
        switch self {
        case .fixed: "fixed"
        case .variable: "variable"
        case .battery: "battery"
        case .programmable: "PPS"
        case .eprAdjustable: "EPR AVS"
        case .sprAdjustable: "SPR AVS"
        }
    }
}
