public import CartridgePower

/// Turns a command-line source specification into a source:
/// - `sysfs` or `sysfs:/root`: watch the Linux power ABI (below /sys or a test root),
/// - `static:10W` (or `static:7500mW`): a fixed budget,
/// - anything else: a scripted power source file.
public enum PowerSourceSpecification {
    public static func source(
        _ specification: String, usbSpeed: USBSpeed = .high, interval: Duration = .milliseconds(500)
    ) throws(PowerSourceError) -> any PowerSnapshotSource {
        if specification == "sysfs" || specification.hasPrefix("sysfs:") {
            let root = specification == "sysfs" ? "/sys" : String(specification.dropFirst("sysfs:".count))
            return PowerSourceWatcher(reader: LinuxPowerSourceReader(root: root, usbSpeed: usbSpeed), interval: interval)
        }
        if specification.hasPrefix("static:") {
            let amount = specification.dropFirst("static:".count)
            let milliwatts: UInt32?
            if amount.hasSuffix("mW") {
                milliwatts = UInt32(amount.dropLast(2))
            } else if amount.hasSuffix("W") {
                milliwatts = PowerScript.milli(amount.dropLast())
            } else {
                milliwatts = nil
            }
            guard let milliwatts else {
                throw PowerSourceError(.malformedValue, "static budget \"\(amount)\" is not like 10W or 7500mW")
            }
            return StaticPowerSource(milliwatts: milliwatts)
        }
        return try ScriptedPowerSource(file: specification)
    }
}
