extension DevicePowerProfile {
    /// A preset name ("pi-zero-2w", "pi4", "pi5", "rk3588"), or a custom profile as
    /// comma-separated `key=value` pairs, optionally starting from a preset:
    /// `pi4,peak=9W` or `idle=1W,worker=0.5W,workers=4,peak=4W,input=5-12V,current=3A,rate=8`.
    /// Keys: idle, worker, peak (W); workers (count); input (V range); current (A); rate (tok/s per worker).
    public init(specification: String) throws(PowerError) {
        let items = specification.split(separator: ",").map { $0.trimmingCharacters }
        var profile: DevicePowerProfile
        var remaining = items[...]
        if let first = items.first, !first.contains("=") {
            guard let preset = DevicePowerProfile.preset(named: String(first)) else {
                let names = DevicePowerProfile.presets.map(\.name).joined(separator: ", ")
                throw PowerError(.unsupportedObject, "unknown board profile \"\(first)\" (presets: \(names))")
            }
            profile = preset
            remaining = remaining.dropFirst()
        } else {
            profile = DevicePowerProfile(
                name: "custom", idleMilliwatts: 1000, milliwattsPerWorker: 1000, maximumWorkers: 1, peakMilliwatts: 2500,
                tokensPerSecondPerWorker: 10)
        }
        for item in remaining {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw PowerError(.valueOutOfRange, "profile item \"\(item)\" is not key=value") }
            let key = parts[0]
            let value = parts[1]
            func milli(_ unit: String) throws(PowerError) -> UInt32 {
                guard value.hasSuffix(unit), let number = Self.thousandths(value.dropLast(unit.count)) else {
                    throw PowerError(.valueOutOfRange, "profile \(key)=\(value): expected a number with unit \(unit)")
                }
                return number
            }
            switch key {
            case "idle": profile.idleMilliwatts = try milli("W")
            case "worker": profile.milliwattsPerWorker = max(1, try milli("W"))
            case "peak": profile.peakMilliwatts = try milli("W")
            case "current": profile.maximumInputMilliamps = try milli("A")
            case "workers":
                guard let count = Int(value), (0...256).contains(count) else {
                    throw PowerError(.valueOutOfRange, "profile workers=\(value): expected 0...256")
                }
                profile.maximumWorkers = count
            case "rate":
                guard let rate = Self.thousandths(value) else { throw PowerError(.valueOutOfRange, "profile rate=\(value): expected a number") }
                profile.tokensPerSecondPerWorker = Double(rate) / 1000
            case "input":
                let bounds = value.split(separator: "-")
                guard value.hasSuffix("V"), bounds.count == 2, let low = Self.thousandths(bounds[0]),
                    let high = Self.thousandths(bounds[1].dropLast()), low <= high
                else { throw PowerError(.valueOutOfRange, "profile input=\(value): expected a range like 5-20V") }
                profile.inputMillivolts = low...high
            default:
                throw PowerError(.valueOutOfRange, "unknown profile key \"\(key)\" (idle, worker, workers, peak, input, current, rate)")
            }
            if profile.name != "custom" && !profile.name.hasSuffix("*") { profile.name += "*" }
        }
        self = profile
    }

    /// A decimal with at most three fractional digits, in thousandths.
    static func thousandths(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let wholeText = parts.first, !wholeText.isEmpty, wholeText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let whole = UInt32(wholeText), whole < 4_000_000
        else { return nil }
        guard parts.count == 2 else { return whole * 1000 }
        let digits = parts[1]
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return whole * 1000 + UInt32(digits + String(repeating: "0", count: 3 - digits.count))!
    }
}

extension Substring {
    fileprivate var trimmingCharacters: Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}
