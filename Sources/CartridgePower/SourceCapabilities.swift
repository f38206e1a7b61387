/// A decoded Source_Capabilities (at most 7 objects) or EPR_Source_Capabilities (positions 1...7
/// SPR, zero-padded, then 8...11 EPR) list, checked object by object.
///
/// Nothing in the list is trusted blindly: flags outside PDO 1 are masked and noted, reserved
/// bits are noted, and impossible objects (0 V, minimum above maximum, above 20 V in an SPR
/// position, an APDO of a reserved subtype, PDO 1 not vSafe5V) are marked untrusted.
public struct SourceCapabilities: Hashable, Sendable {
    public static let maximumSPRObjects = 7
    public static let maximumObjects = 11
    public static let firstEPRPosition = 8

    public var objects: [OfferedObject]
    /// Issues of the list as a whole (e.g. too many objects).
    public var issues: [PowerDataIssue]

    public init(rawObjects: [UInt32]) {
        var listIssues: [PowerDataIssue] = []
        var words = rawObjects
        if words.count > Self.maximumObjects {
            listIssues.append(PowerDataIssue(
                .note, position: nil,
                "\(words.count) objects offered; only \(Self.maximumObjects) positions exist, the rest are ignored"))
            words = Array(words.prefix(Self.maximumObjects))
        }
        let isEPRList = words.count > Self.maximumSPRObjects
        var decoded: [OfferedObject] = []
        var lastFixedMillivolts: UInt32 = 0
        for (index, raw) in words.enumerated() {
            let position = index + 1
            let object = PowerDataObject(raw: raw, position: position)
            var issues = Self.check(object, raw: raw, position: position, isEPRList: isEPRList)
            if case .fixed(let fixed) = object, fixed.millivolts > 0 {
                if fixed.millivolts < lastFixedMillivolts {
                    issues.append(PowerDataIssue(.note, position: position, "fixed voltages are not in ascending order"))
                }
                lastFixedMillivolts = fixed.millivolts
            }
            decoded.append(OfferedObject(position: position, raw: raw, object: object, issues: issues))
        }
        objects = decoded
        issues = listIssues
    }

    /// The raw words in position order.
    public var rawObjects: [UInt32] { objects.map(\.raw) }

    /// Flags of the vSafe5V object at position 1 (empty when it is not a Fixed PDO).
    public var positionOneFlags: FixedSupplyFlags {
        if let first = objects.first, case .fixed(let fixed) = first.object { return fixed.flags }
        return []
    }

    /// PDO 1 advertises EPR mode (bit 23).
    public var isEPRModeCapable: Bool { positionOneFlags.contains(.eprModeCapable) }

    /// The object at 1-based `position`, if offered.
    public func object(at position: Int) -> OfferedObject? {
        guard position >= 1, position <= objects.count else { return nil }
        return objects[position - 1]
    }

    /// Every issue: the list's, then each object's.
    public var allIssues: [PowerDataIssue] { issues + objects.flatMap(\.issues) }

    private static func check(_ object: PowerDataObject, raw: UInt32, position: Int, isEPRList: Bool) -> [PowerDataIssue] {
        var issues: [PowerDataIssue] = []
        func note(_ text: String) { issues.append(PowerDataIssue(.note, position: position, text)) }
        func untrusted(_ text: String) { issues.append(PowerDataIssue(.untrusted, position: position, text)) }
        func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
        let eprPosition = position >= firstEPRPosition

        if position == 1 {
            guard case .fixed(let fixed) = object, fixed.millivolts == 5000 else {
                untrusted("position 1 must be Fixed 5V (vSafe5V), found \(object)")
                return issues
            }
        }
        switch object {
        case .empty:
            if !(isEPRList && position < firstEPRPosition) { note("empty object (zero word)") }
        case .fixed(let fixed):
            if position == 1 {
                if raw.bit(22) { note("reserved bit 22 set; ignored") }
            } else if raw & FixedSupplyFlags.positionOneOnlyMask != 0 {
                note("flag bits 29...22 set outside PDO 1 (\(hex(raw & FixedSupplyFlags.positionOneOnlyMask))); ignored")
            }
            if fixed.millivolts == 0 { untrusted("fixed supply of 0 V") }
            if fixed.maximumMilliamps == 0 { untrusted("fixed supply offering 0 A") }
            if eprPosition {
                if fixed.millivolts <= 20000 { untrusted("EPR position holds a fixed supply of \(PowerUnits.volts(fixed.millivolts)) (EPR fixed supplies are above 20V)") }
                if fixed.millivolts > 48000 { untrusted("fixed supply above 48V") }
            } else if fixed.millivolts > 20000 {
                untrusted("\(PowerUnits.volts(fixed.millivolts)) in an SPR position (1...7); above 20V needs EPR")
            }
        case .variable(let variable):
            checkRange(variable.minimumMillivolts, variable.maximumMillivolts, eprPosition: eprPosition, untrusted)
            if variable.maximumMilliamps == 0 { untrusted("variable supply offering 0 A") }
        case .battery(let battery):
            checkRange(battery.minimumMillivolts, battery.maximumMillivolts, eprPosition: eprPosition, untrusted)
            if battery.maximumMilliwatts == 0 { untrusted("battery supply offering 0 W") }
        case .programmable(let pps):
            if raw & ProgrammableSupplyAPDO.reservedMask != 0 {
                note("reserved bits \(hex(raw & ProgrammableSupplyAPDO.reservedMask)) set; ignored")
            }
            if pps.minimumMillivolts > pps.maximumMillivolts { untrusted("PPS minimum voltage above maximum") }
            if pps.maximumMillivolts > 21000 { untrusted("PPS maximum above 21V") }
            if pps.maximumMilliamps == 0 { untrusted("PPS offering 0 A") }
            if eprPosition { untrusted("PPS APDO in an EPR position") }
        case .eprAdjustable(let avs):
            if raw & EPRAdjustableAPDO.reservedMask != 0 { note("reserved bit 16 set; ignored") }
            if !eprPosition { untrusted("EPR AVS APDO in an SPR position (1...7)") }
            if avs.minimumMillivolts > avs.maximumMillivolts { untrusted("AVS minimum voltage above maximum") }
            if avs.maximumMillivolts > 48000 { untrusted("EPR AVS maximum above 48V") }
            if avs.pdpWatts == 0 { untrusted("EPR AVS with a PDP of 0 W") }
        case .sprAdjustable(let avs):
            if raw & SPRAdjustableAPDO.reservedMask != 0 {
                note("reserved bits \(hex(raw & SPRAdjustableAPDO.reservedMask)) set; ignored")
            }
            if avs.maximumMilliamps9To15V == 0 { untrusted("SPR AVS offering 0 A at 9-15V") }
            if eprPosition { untrusted("SPR AVS APDO in an EPR position") }
        case .reservedAugmented:
            untrusted("APDO of reserved subtype 11")
        }
        return issues
    }

    private static func checkRange(
        _ minimum: UInt32, _ maximum: UInt32, eprPosition: Bool, _ untrusted: (String) -> Void
    ) {
        if minimum > maximum { untrusted("minimum voltage \(PowerUnits.volts(minimum)) above maximum \(PowerUnits.volts(maximum))") }
        if maximum == 0 { untrusted("maximum voltage of 0 V") }
        if eprPosition { untrusted("variable/battery supply in an EPR position") }
        if !eprPosition && maximum > 20000 { untrusted("above 20V in an SPR position") }
    }
}
