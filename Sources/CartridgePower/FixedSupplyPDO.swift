/// Fixed Supply PDO, source role (type 00): 29...23 flags (position 1 only), 22 reserved,
/// 21:20 peak current, 19:10 voltage in 50 mV, 9:0 maximum current in 10 mA.
public struct FixedSupplyPDO: Hashable, Sendable, CustomStringConvertible {
    public var millivolts: UInt32
    public var maximumMilliamps: UInt32
    /// Peak current capability 0...3 (overload tolerance; 0 = peak equals maximum current).
    public var peakCurrent: UInt8
    /// Meaningful only at object position 1; zero elsewhere after decoding.
    public var flags: FixedSupplyFlags

    public init(millivolts: UInt32, maximumMilliamps: UInt32, peakCurrent: UInt8 = 0, flags: FixedSupplyFlags = []) {
        self.millivolts = millivolts
        self.maximumMilliamps = maximumMilliamps
        self.peakCurrent = peakCurrent
        self.flags = flags
    }

    /// Reads the fields of `raw`. Flags are kept only when `position == 1`.
    public init(raw: UInt32, position: Int = 1) {
        millivolts = raw.bits(19, 10) * 50
        maximumMilliamps = raw.bits(9, 0) * 10
        peakCurrent = UInt8(raw.bits(21, 20))
        flags = position == 1 ? FixedSupplyFlags(rawValue: raw & FixedSupplyFlags.definedMask) : []
    }

    public func encoded() throws(PowerError) -> UInt32 {
        guard peakCurrent <= 3 else { throw PowerError(.valueOutOfRange, "peak current \(peakCurrent) exceeds 2 bits") }
        guard flags.rawValue & ~FixedSupplyFlags.definedMask == 0 else {
            throw PowerError(.valueOutOfRange, "fixed supply flags 0x\(String(flags.rawValue, radix: 16)) outside bits 29...23")
        }
        let volts = try PowerError.field(millivolts, unit: 50, bits: 10, name: "voltage (mV)")
        let amps = try PowerError.field(maximumMilliamps, unit: 10, bits: 10, name: "maximum current (mA)")
        return flags.rawValue | UInt32(peakCurrent) << 20 | volts << 10 | amps
    }

    public var milliwatts: UInt32 { PowerUnits.milliwatts(millivolts: millivolts, milliamps: maximumMilliamps) }

    public var description: String { "Fixed \(PowerUnits.volts(millivolts)) \(PowerUnits.amps(maximumMilliamps))" }
}
