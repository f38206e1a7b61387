/// SPR Programmable Power Supply APDO (type 11, subtype 00): 27 PPS power limited,
/// 26:25 reserved, 24:17 maximum voltage, 16 reserved, 15:8 minimum voltage (100 mV),
/// 7 reserved, 6:0 maximum current (50 mA).
public struct ProgrammableSupplyAPDO: Hashable, Sendable, CustomStringConvertible {
    public var minimumMillivolts: UInt32
    public var maximumMillivolts: UInt32
    public var maximumMilliamps: UInt32
    /// The source cannot deliver maximum voltage x maximum current at once (source only).
    public var powerLimited: Bool

    public static let reservedMask: UInt32 = .mask(26, 25) | 1 << 16 | 1 << 7

    public init(minimumMillivolts: UInt32, maximumMillivolts: UInt32, maximumMilliamps: UInt32, powerLimited: Bool = false) {
        self.minimumMillivolts = minimumMillivolts
        self.maximumMillivolts = maximumMillivolts
        self.maximumMilliamps = maximumMilliamps
        self.powerLimited = powerLimited
    }

    public init(raw: UInt32) {
        powerLimited = raw.bit(27)
        maximumMillivolts = raw.bits(24, 17) * 100
        minimumMillivolts = raw.bits(15, 8) * 100
        maximumMilliamps = raw.bits(6, 0) * 50
    }

    public func encoded() throws(PowerError) -> UInt32 {
        let maxV = try PowerError.field(maximumMillivolts, unit: 100, bits: 8, name: "maximum voltage (mV)")
        let minV = try PowerError.field(minimumMillivolts, unit: 100, bits: 8, name: "minimum voltage (mV)")
        let amps = try PowerError.field(maximumMilliamps, unit: 50, bits: 7, name: "maximum current (mA)")
        return 0b11 << 30 | (powerLimited ? 1 << 27 : 0) | maxV << 17 | minV << 8 | amps
    }

    public var description: String {
        "PPS \(PowerUnits.volts(minimumMillivolts))-\(PowerUnits.volts(maximumMillivolts)) \(PowerUnits.amps(maximumMilliamps))"
            + (powerLimited ? " (power limited)" : "")
    }
}
