public import CartridgePower

/// A parsed scripted power source: chargers, laptop ports and changes over time, one event per
/// line. Grammar (docs/POWER.md has the full reference):
///
///     # comment
///     at 0s: source "45W charger" fixed 5V 3A, fixed 9V 3A, fixed 15V 3A
///     at 2s: source "laptop on battery" fixed 5V 0.9A
///     at 2.5s: typec "phone charger" 1.5A
///     at 3s: usb "old hub" 100mA
///     at 4s: cable epr
///     at 5s: static "bench supply" 10W
///     at 6s: detach
///
/// Objects: `fixed <V> <A> [flags]`, `variable <V>-<V> <A>`, `battery <V>-<V> <W>`,
/// `pps <V>-<V> <A> [limited]`, `avs <V>-<V> <W>` (EPR AVS), `spr-avs <A> [<A>]`, `empty`,
/// `raw 0x...`. Fixed flags (PDO 1): drp, suspend, unconstrained, usb-comm, drd, unchunked, epr,
/// and `peak <0-3>`.
public struct PowerScript: Hashable, Sendable {
    public struct Event: Hashable, Sendable {
        /// Time from the start of the script.
        public var offset: Duration
        /// 1-based line number in the file.
        public var line: Int
        public var snapshot: PowerSnapshot
    }

    public var name: String
    public var events: [Event]

    /// Parses `text`; `name` (usually the file path) prefixes error messages as `name:line:`.
    public init(parsing text: String, name: String = "script") throws(PowerSourceError) {
        self.name = name
        var events: [Event] = []
        var state = PowerSnapshot(sourceName: "none")
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            do throws(ScriptProblem) {
                let (offset, body) = try Self.splitTime(line)
                if let previous = events.last, offset < previous.offset {
                    throw ScriptProblem("time \(offset) is earlier than the previous event (\(previous.offset))")
                }
                try Self.apply(body, to: &state)
                events.append(Event(offset: offset, line: lineNumber, snapshot: state))
            } catch {
                throw PowerSourceError(.scriptSyntax, "\(name):\(lineNumber): \(error.text)")
            }
        }
        guard !events.isEmpty else { throw PowerSourceError(.scriptSyntax, "\(name): no events (expected lines like 'at 0s: source ...')") }
        self.events = events
    }

    // MARK: Lines

    struct ScriptProblem: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    private static func splitTime(_ line: Substring) throws(ScriptProblem) -> (Duration, Substring) {
        guard line.hasPrefix("at ") else { throw ScriptProblem("expected 'at <time>: <event>', found \"\(line)\"") }
        guard let colon = line.firstIndex(of: ":") else { throw ScriptProblem("missing ':' after the time") }
        let timeText = line[line.index(line.startIndex, offsetBy: 3)..<colon].trimmingSpaces
        let body = line[line.index(after: colon)...].trimmingSpaces
        guard !body.isEmpty else { throw ScriptProblem("no event after '\(timeText):'") }
        return (try time(timeText), body)
    }

    static func time(_ text: Substring) throws(ScriptProblem) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("min", 60_000), ("s", 1000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard let thousandths = milli(number) else { break }
            return .microseconds(Int64(thousandths) * milliseconds)
        }
        throw ScriptProblem("bad time \"\(text)\" (expected e.g. 0s, 1.5s, 250ms, 2min)")
    }

    private static func apply(_ body: Substring, to state: inout PowerSnapshot) throws(ScriptProblem) {
        let verbEnd = body.firstIndex(of: " ") ?? body.endIndex
        let verb = body[..<verbEnd]
        var rest = body[verbEnd...].trimmingSpaces
        let cable = state.cable
        switch verb {
        case "source":
            let name = try quoted(&rest)
            guard !rest.isEmpty else { throw ScriptProblem("source \"\(name)\" lists no objects") }
            var words: [UInt32] = []
            for item in rest.split(separator: ",") {
                let tokens = item.split(separator: " ")
                guard !tokens.isEmpty else { throw ScriptProblem("empty object in the list") }
                words.append(try object(tokens, position: words.count + 1))
            }
            state = PowerSnapshot(sourceName: name, sourceCapabilities: words, typeCCurrent: .powerDelivery, cable: cable)
        case "typec":
            let name = try quoted(&rest)
            let tokens = rest.split(separator: " ")
            guard let level = tokens.first else { throw ScriptProblem("typec needs default, 1.5A or 3A") }
            let current: TypeCCurrent
            switch level {
            case "default": current = .usbDefault
            case "1.5A": current = .current1500
            case "3A", "3.0A": current = .current3000
            default: throw ScriptProblem("typec current \"\(level)\" is not default, 1.5A or 3A")
            }
            let speed = try speedOption(tokens.dropFirst())
            state = PowerSnapshot(sourceName: name, typeCCurrent: current, usbSpeed: speed, cable: cable)
        case "usb":
            let name = try quoted(&rest)
            let tokens = rest.split(separator: " ")
            guard let amount = tokens.first, amount.hasSuffix("mA"), let milliamps = UInt32(amount.dropLast(2)) else {
                throw ScriptProblem("usb needs the accepted bMaxPower in mA, e.g. 500mA")
            }
            state = PowerSnapshot(
                sourceName: name, usbSpeed: try speedOption(tokens.dropFirst()), usbConfiguredMilliamps: milliamps, cable: cable)
        case "static":
            let name = try quoted(&rest)
            let milliwatts = try quantity(rest, unit: "W", what: "static budget")
            state = PowerSnapshot(sourceName: name, cable: cable, staticBudgetMilliwatts: milliwatts)
        case "cable":
            switch rest {
            case "3A": state.cable = .unknown
            case "5A": state.cable = .fiveAmp
            case "epr": state.cable = .epr
            default: throw ScriptProblem("cable must be 3A, 5A or epr, found \"\(rest)\"")
            }
        case "detach":
            guard rest.isEmpty else { throw ScriptProblem("detach takes no arguments") }
            state = PowerSnapshot(sourceName: "detached", isAttached: false, cable: cable)
        default:
            throw ScriptProblem("unknown event \"\(verb)\" (expected source, typec, usb, static, cable or detach)")
        }
    }

    private static func speedOption(_ tokens: ArraySlice<Substring>) throws(ScriptProblem) -> USBSpeed {
        guard let token = tokens.first else { return .high }
        guard tokens.count == 1, token == "usb3" || token == "usb2" else {
            throw ScriptProblem("unexpected \"\(tokens.joined(separator: " "))\" (only usb2 or usb3 may follow)")
        }
        return token == "usb3" ? .superSpeed : .high
    }

    private static func quoted(_ rest: inout Substring) throws(ScriptProblem) -> String {
        guard rest.first == "\"" else { throw ScriptProblem("expected a quoted name, found \"\(rest)\"") }
        let afterQuote = rest.index(after: rest.startIndex)
        guard let close = rest[afterQuote...].firstIndex(of: "\"") else { throw ScriptProblem("unterminated quoted name") }
        let name = String(rest[afterQuote..<close])
        rest = rest[rest.index(after: close)...].trimmingSpaces
        return name
    }

    // MARK: Objects

    private static func object(_ tokens: [Substring], position: Int) throws(ScriptProblem) -> UInt32 {
        let kind = tokens[0]
        let arguments = Array(tokens.dropFirst())
        let object: PowerDataObject
        switch kind {
        case "empty":
            try expectCount(arguments, 0, "empty")
            return 0
        case "raw":
            try expectCount(arguments, 1, "raw 0x...")
            let text = arguments[0]
            guard text.hasPrefix("0x"), let value = UInt32(text.dropFirst(2), radix: 16) else {
                throw ScriptProblem("raw object \"\(text)\" is not a 32-bit hex value like 0x0001912C")
            }
            return value
        case "fixed":
            guard arguments.count >= 2 else { throw ScriptProblem("fixed needs a voltage and a current, e.g. fixed 9V 3A") }
            let millivolts = try quantity(arguments[0], unit: "V", what: "voltage")
            let milliamps = try quantity(arguments[1], unit: "A", what: "current")
            var flags: FixedSupplyFlags = []
            var peak: UInt8 = 0
            var index = 2
            while index < arguments.count {
                switch arguments[index] {
                case "drp": flags.insert(.dualRolePower)
                case "suspend": flags.insert(.usbSuspendSupported)
                case "unconstrained": flags.insert(.unconstrainedPower)
                case "usb-comm": flags.insert(.usbCommunicationCapable)
                case "drd": flags.insert(.dualRoleData)
                case "unchunked": flags.insert(.unchunkedExtendedMessages)
                case "epr": flags.insert(.eprModeCapable)
                case "peak":
                    index += 1
                    guard index < arguments.count, let value = UInt8(arguments[index]), value <= 3 else {
                        throw ScriptProblem("peak needs a value 0...3")
                    }
                    peak = value
                default: throw ScriptProblem("unknown fixed supply flag \"\(arguments[index])\"")
                }
                index += 1
            }
            if !flags.isEmpty && position != 1 { throw ScriptProblem("fixed supply flags are only allowed on the first object") }
            object = .fixed(FixedSupplyPDO(millivolts: millivolts, maximumMilliamps: milliamps, peakCurrent: peak, flags: flags))
        case "variable":
            try expectCount(arguments, 2, "variable <min>-<max>V <A>")
            let (low, high) = try range(arguments[0])
            object = .variable(VariableSupplyPDO(
                minimumMillivolts: low, maximumMillivolts: high, maximumMilliamps: try quantity(arguments[1], unit: "A", what: "current")))
        case "battery":
            try expectCount(arguments, 2, "battery <min>-<max>V <W>")
            let (low, high) = try range(arguments[0])
            object = .battery(BatterySupplyPDO(
                minimumMillivolts: low, maximumMillivolts: high, maximumMilliwatts: try quantity(arguments[1], unit: "W", what: "power")))
        case "pps":
            guard arguments.count == 2 || (arguments.count == 3 && arguments[2] == "limited") else {
                throw ScriptProblem("expected pps <min>-<max>V <A> [limited]")
            }
            let (low, high) = try range(arguments[0])
            object = .programmable(ProgrammableSupplyAPDO(
                minimumMillivolts: low, maximumMillivolts: high,
                maximumMilliamps: try quantity(arguments[1], unit: "A", what: "current"), powerLimited: arguments.count == 3))
        case "avs":
            try expectCount(arguments, 2, "avs <min>-<max>V <W>")
            let (low, high) = try range(arguments[0])
            let milliwatts = try quantity(arguments[1], unit: "W", what: "PDP")
            guard milliwatts % 1000 == 0 else { throw ScriptProblem("AVS PDP must be whole watts") }
            object = .eprAdjustable(EPRAdjustableAPDO(minimumMillivolts: low, maximumMillivolts: high, pdpWatts: milliwatts / 1000))
        case "spr-avs":
            guard arguments.count == 1 || arguments.count == 2 else { throw ScriptProblem("expected spr-avs <A 9-15V> [<A 15-20V>]") }
            object = .sprAdjustable(SPRAdjustableAPDO(
                maximumMilliamps9To15V: try quantity(arguments[0], unit: "A", what: "current"),
                maximumMilliamps15To20V: arguments.count == 2 ? try quantity(arguments[1], unit: "A", what: "current") : 0))
        default:
            throw ScriptProblem("unknown object \"\(kind)\" (expected fixed, variable, battery, pps, avs, spr-avs, empty or raw)")
        }
        do {
            return try object.encoded()
        } catch {
            throw ScriptProblem("\(tokens.joined(separator: " ")): \(error.message)")
        }
    }

    private static func expectCount(_ arguments: [Substring], _ count: Int, _ form: String) throws(ScriptProblem) {
        guard arguments.count == count else { throw ScriptProblem("expected \(form)") }
    }

    /// "3.3-11V" -> (3300, 11000)
    private static func range(_ text: Substring) throws(ScriptProblem) -> (UInt32, UInt32) {
        let parts = text.split(separator: "-")
        guard parts.count == 2 else { throw ScriptProblem("bad voltage range \"\(text)\" (expected e.g. 3.3-11V)") }
        let high = try quantity(parts[1], unit: "V", what: "voltage")
        let lowText = parts[0].hasSuffix("V") ? parts[0] : parts[0] + "V"
        return (try quantity(lowText, unit: "V", what: "voltage"), high)
    }

    /// "0.9A" -> 900 (thousandths of the unit).
    private static func quantity(_ text: Substring, unit: String, what: String) throws(ScriptProblem) -> UInt32 {
        guard text.hasSuffix(unit), let value = milli(text.dropLast(unit.count)) else {
            throw ScriptProblem("bad \(what) \"\(text)\" (expected a number with unit \(unit), e.g. 1.5\(unit))")
        }
        return value
    }

    /// A decimal with at most three fractional digits, in thousandths.
    static func milli(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let wholeText = parts.first, !wholeText.isEmpty,
            wholeText.allSatisfy({ $0.isASCII && $0.isNumber }), let whole = UInt32(wholeText), whole < 4_000_000
        else { return nil }
        var fraction: UInt32 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            fraction = UInt32(digits + String(repeating: "0", count: 3 - digits.count))!
        }
        return whole * 1000 + fraction
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result = result.dropLast() }
        return result
    }
}
