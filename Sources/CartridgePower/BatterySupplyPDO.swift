/// Battery Supply PDO (type 01): 29:20 maximum voltage, 19:10 minimum voltage (50 mV),
/// 9:0 maximum power (250 mW).
public struct BatterySupplyPDO: Hashable, Sendable, CustomStringConvertible {
    public var minimumMillivolts: UInt32
    public var maximumMillivolts: UInt32
    public var maximumMilliwatts: UInt32

    public init(minimumMillivolts: UInt32, maximumMillivolts: UInt32, maximumMilliwatts: UInt32) {
        self.minimumMillivolts = minimumMillivolts
        self.maximumMillivolts = maximumMillivolts
        self.maximumMilliwatts = maximumMilliwatts
    }

    public init(raw: UInt32) {
        maximumMillivolts = raw.bits(29, 20) * 50
        minimumMillivolts = raw.bits(19, 10) * 50
        maximumMilliwatts = raw.bits(9, 0) * 250
    }

    public func encoded() throws(PowerError) -> UInt32 {
        let maxV = try PowerError.field(maximumMillivolts, unit: 50, bits: 10, name: "maximum voltage (mV)")
        let minV = try PowerError.field(minimumMillivolts, unit: 50, bits: 10, name: "minimum voltage (mV)")
        let power = try PowerError.field(maximumMilliwatts, unit: 250, bits: 10, name: "maximum power (mW)")
        return 0b01 << 30 | maxV << 20 | minV << 10 | power
    }

    public var description: String {
        "Battery \(PowerUnits.volts(minimumMillivolts))-\(PowerUnits.volts(maximumMillivolts)) \(PowerUnits.watts(maximumMilliwatts))"
    }
}
