/// SPR Adjustable Voltage Supply APDO (PD 3.2; type 11, subtype 10): 27:26 peak current,
/// 25:20 reserved, 19:10 maximum current for 9...15 V, 9:0 maximum current for 15...20 V (10 mA).
/// The voltage range is implied: 9 V up to 15 V, and up to 20 V when the second current is non-zero.
public struct SPRAdjustableAPDO: Hashable, Sendable, CustomStringConvertible {
    public var maximumMilliamps9To15V: UInt32
    public var maximumMilliamps15To20V: UInt32
    public var peakCurrent: UInt8

    public static let reservedMask: UInt32 = .mask(25, 20)
    public static let minimumMillivolts: UInt32 = 9000

    public init(maximumMilliamps9To15V: UInt32, maximumMilliamps15To20V: UInt32, peakCurrent: UInt8 = 0) {
        self.maximumMilliamps9To15V = maximumMilliamps9To15V
        self.maximumMilliamps15To20V = maximumMilliamps15To20V
        self.peakCurrent = peakCurrent
    }

    public init(raw: UInt32) {
        peakCurrent = UInt8(raw.bits(27, 26))
        maximumMilliamps9To15V = raw.bits(19, 10) * 10
        maximumMilliamps15To20V = raw.bits(9, 0) * 10
    }

    public func encoded() throws(PowerError) -> UInt32 {
        guard peakCurrent <= 3 else { throw PowerError(.valueOutOfRange, "peak current \(peakCurrent) exceeds 2 bits") }
        let low = try PowerError.field(maximumMilliamps9To15V, unit: 10, bits: 10, name: "maximum current 9-15V (mA)")
        let high = try PowerError.field(maximumMilliamps15To20V, unit: 10, bits: 10, name: "maximum current 15-20V (mA)")
        return 0b11 << 30 | 0b10 << 28 | UInt32(peakCurrent) << 26 | low << 10 | high
    }

    public var maximumMillivolts: UInt32 { maximumMilliamps15To20V > 0 ? 20000 : 15000 }

    /// Maximum current at `millivolts` (0 outside 9...20 V).
    public func maximumMilliamps(at millivolts: UInt32) -> UInt32 {
        switch millivolts {
        case 9000...15000: maximumMilliamps9To15V
        case 15001...20000: maximumMilliamps15To20V
        default: 0
        }
    }

    public var description: String {
        "SPR AVS 9V-15V \(PowerUnits.amps(maximumMilliamps9To15V))"
            + (maximumMilliamps15To20V > 0 ? ", 15V-20V \(PowerUnits.amps(maximumMilliamps15To20V))" : "")
    }
}
