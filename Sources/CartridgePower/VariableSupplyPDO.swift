/// Variable Supply PDO (type 10): 29:20 maximum voltage, 19:10 minimum voltage (50 mV),
/// 9:0 maximum current (10 mA).
public struct VariableSupplyPDO: Hashable, Sendable, CustomStringConvertible {
    public var minimumMillivolts: UInt32
    public var maximumMillivolts: UInt32
    public var maximumMilliamps: UInt32

    public init(minimumMillivolts: UInt32, maximumMillivolts: UInt32, maximumMilliamps: UInt32) {
        self.minimumMillivolts = minimumMillivolts
        self.maximumMillivolts = maximumMillivolts
        self.maximumMilliamps = maximumMilliamps
    }

    public init(raw: UInt32) {
        maximumMillivolts = raw.bits(29, 20) * 50
        minimumMillivolts = raw.bits(19, 10) * 50
        maximumMilliamps = raw.bits(9, 0) * 10
    }

    public func encoded() throws(PowerError) -> UInt32 {
        let maxV = try PowerError.field(maximumMillivolts, unit: 50, bits: 10, name: "maximum voltage (mV)")
        let minV = try PowerError.field(minimumMillivolts, unit: 50, bits: 10, name: "minimum voltage (mV)")
        let amps = try PowerError.field(maximumMilliamps, unit: 10, bits: 10, name: "maximum current (mA)")
        return 0b10 << 30 | maxV << 20 | minV << 10 | amps
    }

    public var description: String {
        "Variable \(PowerUnits.volts(minimumMillivolts))-\(PowerUnits.volts(maximumMillivolts)) \(PowerUnits.amps(maximumMilliamps))"
    }
}
