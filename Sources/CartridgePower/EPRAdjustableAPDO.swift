/// EPR Adjustable Voltage Supply APDO (type 11, subtype 01): 27:26 peak current,
/// 25:17 maximum voltage (9 bits, 100 mV), 16 reserved, 15:8 minimum voltage (100 mV),
/// 7:0 PDP in 1 W.
public struct EPRAdjustableAPDO: Hashable, Sendable, CustomStringConvertible {
    public var minimumMillivolts: UInt32
    public var maximumMillivolts: UInt32
    /// Power the source guarantees across the range, in W.
    public var pdpWatts: UInt32
    public var peakCurrent: UInt8

    public static let reservedMask: UInt32 = 1 << 16

    public init(minimumMillivolts: UInt32, maximumMillivolts: UInt32, pdpWatts: UInt32, peakCurrent: UInt8 = 0) {
        self.minimumMillivolts = minimumMillivolts
        self.maximumMillivolts = maximumMillivolts
        self.pdpWatts = pdpWatts
        self.peakCurrent = peakCurrent
    }

    public init(raw: UInt32) {
        peakCurrent = UInt8(raw.bits(27, 26))
        maximumMillivolts = raw.bits(25, 17) * 100
        minimumMillivolts = raw.bits(15, 8) * 100
        pdpWatts = raw.bits(7, 0)
    }

    public func encoded() throws(PowerError) -> UInt32 {
        guard peakCurrent <= 3 else { throw PowerError(.valueOutOfRange, "peak current \(peakCurrent) exceeds 2 bits") }
        let maxV = try PowerError.field(maximumMillivolts, unit: 100, bits: 9, name: "maximum voltage (mV)")
        let minV = try PowerError.field(minimumMillivolts, unit: 100, bits: 8, name: "minimum voltage (mV)")
        let pdp = try PowerError.field(pdpWatts, unit: 1, bits: 8, name: "PDP (W)")
        return 0b11 << 30 | 0b01 << 28 | UInt32(peakCurrent) << 26 | maxV << 17 | minV << 8 | pdp
    }

    public var description: String {
        "EPR AVS \(PowerUnits.volts(minimumMillivolts))-\(PowerUnits.volts(maximumMillivolts)) \(pdpWatts)W"
    }
}
