/// One 32-bit power data object as offered in Source_Capabilities or EPR_Source_Capabilities.
/// Bits 31:30 give the type; for an augmented PDO (11), bits 29:28 give the subtype.
public enum PowerDataObject: Hashable, Sendable, CustomStringConvertible {
    /// A zero word: padding, e.g. unused SPR positions in EPR_Source_Capabilities.
    case empty
    case fixed(FixedSupplyPDO)
    case variable(VariableSupplyPDO)
    case battery(BatterySupplyPDO)
    case programmable(ProgrammableSupplyAPDO)
    case eprAdjustable(EPRAdjustableAPDO)
    case sprAdjustable(SPRAdjustableAPDO)
    /// APDO subtype 11, reserved by the specification; the raw word is kept.
    case reservedAugmented(UInt32)

    /// Decodes the fields of `raw` (no plausibility checks; see `OfferedObject`).
    /// Fixed-supply flags are kept only at `position` 1.
    public init(raw: UInt32, position: Int = 1) {
        if raw == 0 {
            self = .empty
            return
        }
        switch raw.bits(31, 30) {
        case 0b00: self = .fixed(FixedSupplyPDO(raw: raw, position: position))
        case 0b01: self = .battery(BatterySupplyPDO(raw: raw))
        case 0b10: self = .variable(VariableSupplyPDO(raw: raw))
        default:
            switch raw.bits(29, 28) {
            case 0b00: self = .programmable(ProgrammableSupplyAPDO(raw: raw))
            case 0b01: self = .eprAdjustable(EPRAdjustableAPDO(raw: raw))
            case 0b10: self = .sprAdjustable(SPRAdjustableAPDO(raw: raw))
            default: self = .reservedAugmented(raw)
            }
        }
    }

    public func encoded() throws(PowerError) -> UInt32 {
        switch self {
        case .empty: 0
        case .fixed(let object): try object.encoded()
        case .variable(let object): try object.encoded()
        case .battery(let object): try object.encoded()
        case .programmable(let object): try object.encoded()
        case .eprAdjustable(let object): try object.encoded()
        case .sprAdjustable(let object): try object.encoded()
        case .reservedAugmented(let raw): raw
        }
    }

    /// The highest voltage this object can deliver, in mV.
    public var maximumMillivolts: UInt32 {
        switch self {
        case .empty, .reservedAugmented: 0
        case .fixed(let object): object.millivolts
        case .variable(let object): object.maximumMillivolts
        case .battery(let object): object.maximumMillivolts
        case .programmable(let object): object.maximumMillivolts
        case .eprAdjustable(let object): object.maximumMillivolts
        case .sprAdjustable(let object): object.maximumMillivolts
        }
    }

    /// Whether this is an augmented (programmable or adjustable) object.
    public var isAugmented: Bool {
        switch self {
        case .programmable, .eprAdjustable, .sprAdjustable, .reservedAugmented: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .empty: "(empty)"
        case .fixed(let object): object.description
        case .variable(let object): object.description
        case .battery(let object): object.description
        case .programmable(let object): object.description
        case .eprAdjustable(let object): object.description
        case .sprAdjustable(let object): object.description
        case .reservedAugmented(let raw): "reserved APDO 0x\(String(raw, radix: 16, uppercase: true))"
        }
    }
}
