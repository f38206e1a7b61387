/// A Request Data Object (RDO), sent by the sink in Request or EPR_Request.
///
/// Common bits: 31:28 object position (4 bits since PD 3.1; 0 and 14...15 reserved),
/// 27...22 flags (`RequestFlags`). The rest depends on the kind of object requested:
/// - Fixed / Variable: 21:20 reserved, 19:10 operating current, 9:0 maximum current (10 mA)
/// - Battery: 21:20 reserved, 19:10 operating power, 9:0 maximum power (250 mW)
/// - PPS: 21 reserved, 20:9 output voltage (20 mV), 8:7 reserved, 6:0 operating current (50 mA)
/// - AVS (EPR or SPR): 21 reserved, 20:9 output voltage (25 mV, 2 LSBs zero, so 100 mV steps),
///   8:7 reserved, 6:0 operating current (50 mA)
public struct RequestDataObject: Hashable, Sendable, CustomStringConvertible {
    public enum Payload: Hashable, Sendable {
        /// For Fixed and Variable supplies.
        case current(operatingMilliamps: UInt32, maximumMilliamps: UInt32)
        case power(operatingMilliwatts: UInt32, maximumMilliwatts: UInt32)
        case programmable(outputMillivolts: UInt32, operatingMilliamps: UInt32)
        case adjustable(outputMillivolts: UInt32, operatingMilliamps: UInt32)
    }

    /// 1-based position of the requested object (1...13; EPR objects are 8...11).
    public var objectPosition: UInt8
    public var flags: RequestFlags
    public var payload: Payload

    public init(objectPosition: UInt8, flags: RequestFlags, payload: Payload) {
        self.objectPosition = objectPosition
        self.flags = flags
        self.payload = payload
    }

    public static let validPositions: ClosedRange<UInt8> = 1...13

    /// The object position field of a raw RDO (bits 31:28).
    public static func objectPosition(of raw: UInt32) -> UInt8 { UInt8(raw.bits(31, 28)) }

    /// Decodes `raw`, a request for an object of `kind`. Reserved positions, reserved bits and,
    /// for AVS, a voltage that is not a multiple of 100 mV are errors.
    public init(raw: UInt32, requesting kind: PowerObjectKind) throws(PowerError) {
        let position = Self.objectPosition(of: raw)
        guard Self.validPositions.contains(position) else {
            throw PowerError(.invalidObjectPosition, "object position \(position) is reserved (valid: 1...13)")
        }
        objectPosition = position
        flags = RequestFlags(rawValue: raw & RequestFlags.definedMask)
        let reserved: UInt32
        switch kind {
        case .fixed, .variable:
            reserved = raw & .mask(21, 20)
            payload = .current(operatingMilliamps: raw.bits(19, 10) * 10, maximumMilliamps: raw.bits(9, 0) * 10)
        case .battery:
            reserved = raw & .mask(21, 20)
            payload = .power(operatingMilliwatts: raw.bits(19, 10) * 250, maximumMilliwatts: raw.bits(9, 0) * 250)
        case .programmable:
            reserved = raw & (1 << 21 | .mask(8, 7))
            payload = .programmable(outputMillivolts: raw.bits(20, 9) * 20, operatingMilliamps: raw.bits(6, 0) * 50)
        case .eprAdjustable, .sprAdjustable:
            reserved = raw & (1 << 21 | .mask(8, 7))
            let field = raw.bits(20, 9)
            guard field & 0b11 == 0 else {
                throw PowerError(.valueOutOfRange, "AVS output voltage field \(field) has its 2 LSBs set (must be 100 mV steps)")
            }
            payload = .adjustable(outputMillivolts: field * 25, operatingMilliamps: raw.bits(6, 0) * 50)
        }
        guard reserved == 0 else {
            throw PowerError(.malformedMessage, "reserved bits 0x\(String(reserved, radix: 16, uppercase: true)) set in a \(kind) request")
        }
    }

    public func encoded() throws(PowerError) -> UInt32 {
        guard Self.validPositions.contains(objectPosition) else {
            throw PowerError(.invalidObjectPosition, "object position \(objectPosition) is reserved (valid: 1...13)")
        }
        guard flags.rawValue & ~RequestFlags.definedMask == 0 else {
            throw PowerError(.valueOutOfRange, "request flags outside bits 27...22")
        }
        var word = UInt32(objectPosition) << 28 | flags.rawValue
        switch payload {
        case .current(let operating, let maximum):
            word |= try PowerError.field(operating, unit: 10, bits: 10, name: "operating current (mA)") << 10
            word |= try PowerError.field(maximum, unit: 10, bits: 10, name: "maximum current (mA)")
        case .power(let operating, let maximum):
            word |= try PowerError.field(operating, unit: 250, bits: 10, name: "operating power (mW)") << 10
            word |= try PowerError.field(maximum, unit: 250, bits: 10, name: "maximum power (mW)")
        case .programmable(let millivolts, let milliamps):
            word |= try PowerError.field(millivolts, unit: 20, bits: 12, name: "PPS output voltage (mV)") << 9
            word |= try PowerError.field(milliamps, unit: 50, bits: 7, name: "operating current (mA)")
        case .adjustable(let millivolts, let milliamps):
            _ = try PowerError.field(millivolts, unit: 100, bits: 12, name: "AVS output voltage (mV)")
            word |= try PowerError.field(millivolts, unit: 25, bits: 12, name: "AVS output voltage (mV)") << 9
            word |= try PowerError.field(milliamps, unit: 50, bits: 7, name: "operating current (mA)")
        }
        return word
    }

    public var description: String {
        var text = "RDO position \(objectPosition): "
        switch payload {
        case .current(let operating, let maximum):
            text += "operating \(PowerUnits.amps(operating)), maximum \(PowerUnits.amps(maximum))"
        case .power(let operating, let maximum):
            text += "operating \(PowerUnits.watts(operating)), maximum \(PowerUnits.watts(maximum))"
        case .programmable(let millivolts, let milliamps), .adjustable(let millivolts, let milliamps):
            text += "\(PowerUnits.volts(millivolts)) \(PowerUnits.amps(milliamps))"
        }
        if flags.contains(.capabilityMismatch) { text += ", capability mismatch" }
        if flags.contains(.eprModeCapable) { text += ", EPR capable" }
        return text
    }
}
