/// Formatting of electrical quantities for human-readable descriptions ("9V", "3.25A", "45W").
/// Integer arithmetic only, so the text is exact and stable.
enum PowerUnits {
    /// `value` in thousandths formatted with the fewest decimals (5000 -> "5", 3250 -> "3.25").
    static func thousandths(_ value: UInt64) -> String {
        let whole = value / 1000
        var fraction = value % 1000
        if fraction == 0 { return "\(whole)" }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var text = "\(fraction)"
        while text.count < digits { text = "0" + text }
        return "\(whole).\(text)"
    }

    static func volts(_ millivolts: UInt32) -> String { thousandths(UInt64(millivolts)) + "V" }
    static func amps(_ milliamps: UInt32) -> String { thousandths(UInt64(milliamps)) + "A" }
    static func watts(_ milliwatts: UInt32) -> String { thousandths(UInt64(milliwatts)) + "W" }

    /// Power in mW of `millivolts` x `milliamps`, rounded down.
    static func milliwatts(millivolts: UInt32, milliamps: UInt32) -> UInt32 {
        UInt32(clamping: UInt64(millivolts) * UInt64(milliamps) / 1000)
    }
}
