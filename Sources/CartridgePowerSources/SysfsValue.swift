/// Parsing of sysfs attribute text. The usb_power_delivery class prints values with a unit
/// suffix ("5000mV", "3000mA", "45000mW"); flags print as 0/1; power_supply prints plain µV/µA.
public enum SysfsValue {
    /// An unsigned integer, optionally followed by exactly `unit` ("5000mV" or "5000").
    /// Any other suffix, sign, space inside, or an empty value is an error naming `path` and the text.
    public static func unsigned(_ text: String, unit: String = "", path: String) throws(PowerSourceError) -> UInt32 {
        var digits = Substring(text)
        if !unit.isEmpty, digits.hasSuffix(unit) { digits = digits.dropLast(unit.count) }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            let expected = unit.isEmpty ? "an unsigned integer" : "an unsigned integer with optional unit \"\(unit)\""
            throw PowerSourceError(.malformedValue, "\(path): expected \(expected), found \"\(text)\"")
        }
        guard let value = UInt32(digits) else {
            throw PowerSourceError(.malformedValue, "\(path): value \"\(text)\" is too large")
        }
        return value
    }

    /// A 0/1 flag (also accepts yes/no, as `supports_usb_power_delivery` prints).
    public static func flag(_ text: String, path: String) throws(PowerSourceError) -> Bool {
        switch text {
        case "1", "yes", "Y": return true
        case "0", "no", "N": return false
        default: throw PowerSourceError(.malformedValue, "\(path): expected 0 or 1, found \"\(text)\"")
        }
    }

    /// The bracketed entry of a choice attribute ("source [sink]" -> "sink", "C [PD] PD_PPS" -> "PD");
    /// a single unbracketed word is returned as is.
    public static func selected(_ text: String) -> String? {
        if let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") {
            return String(text[text.index(after: open)..<close])
        }
        let words = text.split(separator: " ")
        return words.count == 1 ? String(words[0]) : nil
    }
}
