public import CartridgePower

/// Reads the Linux Type-C, USB Power Delivery and power_supply classes into a `PowerSnapshot`.
///
/// - `class/typec/portN`: the port whose `power_role` selects `[sink]` (else the first port);
///   `power_operation_mode` gives the Type-C current; `portN-partner` tells whether a partner is attached.
/// - `class/typec/portN-partner/usb_power_delivery/source-capabilities/<pos>:<type>/`: the
///   partner's offer; each object is rebuilt into its raw 32-bit word from the attributes.
/// - `class/power_supply/*`: a `tcpm-source-psy-*` supply (or type USB) for online/voltage/current.
///
/// Reading never throws: every problem is recorded in `snapshot.problems` and the affected part
/// is left out (a capability list with any malformed object is dropped whole, since object
/// positions must be exact), so the policy falls back. Blocking: call from a dedicated thread.
public struct LinuxPowerSourceReader: Sendable {
    public var tree: SysfsTree
    public var usbSpeed: USBSpeed

    public init(root: String = "/sys", usbSpeed: USBSpeed = .high) {
        tree = SysfsTree(root: root)
        self.usbSpeed = usbSpeed
    }

    public func read() -> PowerSnapshot {
        var snapshot = PowerSnapshot(sourceName: "sysfs", usbSpeed: usbSpeed)
        var problems: [String] = []
        readTypeC(into: &snapshot, problems: &problems)
        snapshot.supply = readSupply(problems: &problems)
        snapshot.problems = problems
        return snapshot
    }

    // MARK: Type-C and PD

    private func readTypeC(into snapshot: inout PowerSnapshot, problems: inout [String]) {
        guard tree.exists("class/typec") else { return }
        let ports: [String]
        do {
            ports = try tree.entries("class/typec").filter { $0.hasPrefix("port") && !$0.contains("-") }
        } catch {
            problems.append(error.message)
            return
        }
        guard !ports.isEmpty else { return }
        let port = ports.first { name in
            (try? tree.text("class/typec/\(name)/power_role")).flatMap(SysfsValue.selected) == "sink"
        } ?? ports[0]
        let portPath = "class/typec/\(port)"
        let partnerPath = "class/typec/\(port)-partner"
        snapshot.sourceName = port
        snapshot.isAttached = tree.exists(partnerPath)

        do {
            let mode = try tree.text("\(portPath)/power_operation_mode")
            switch mode {
            case "default": snapshot.typeCCurrent = .usbDefault
            case "1.5A": snapshot.typeCCurrent = .current1500
            case "3.0A": snapshot.typeCCurrent = .current3000
            case "usb_power_delivery": snapshot.typeCCurrent = .powerDelivery
            default: problems.append("\(tree.path("\(portPath)/power_operation_mode")): unknown mode \"\(mode)\"")
            }
        } catch {
            problems.append(error.message)
        }

        guard snapshot.isAttached else { return }
        let capabilitiesPath = "\(partnerPath)/usb_power_delivery/source-capabilities"
        guard tree.exists(capabilitiesPath) else {
            if snapshot.typeCCurrent == .powerDelivery {
                problems.append("\(tree.path(partnerPath)): no usb_power_delivery/source-capabilities (kernel before 6.0?)")
            }
            return
        }
        snapshot.sourceName = "\(port)-partner"
        do {
            snapshot.sourceCapabilities = try readCapabilities(capabilitiesPath)
        } catch {
            problems.append(error.message)
            problems.append("source capabilities ignored")
        }
    }

    /// The raw words of every `<pos>:<type>` directory, in position order.
    func readCapabilities(_ directory: String) throws(PowerSourceError) -> [UInt32] {
        var words: [Int: UInt32] = [:]
        for entry in try tree.entries(directory) {
            let parts = entry.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let position = Int(parts[0]), (1...SourceCapabilities.maximumObjects).contains(position) else {
                throw PowerSourceError(.malformedValue, "\(tree.path(directory))/\(entry): not a <position>:<type> PDO directory")
            }
            guard words[position] == nil else {
                throw PowerSourceError(.malformedValue, "\(tree.path(directory)): position \(position) appears twice")
            }
            words[position] = try readObject("\(directory)/\(entry)", position: position, type: String(parts[1]))
        }
        guard let last = words.keys.max() else { return [] }
        for position in 1...last where words[position] == nil {
            throw PowerSourceError(.malformedValue, "\(tree.path(directory)): position \(position) is missing")
        }
        return (1...last).map { words[$0]! }
    }

    private func readObject(_ path: String, position: Int, type: String) throws(PowerSourceError) -> UInt32 {
        func value(_ name: String, _ unit: String) throws(PowerSourceError) -> UInt32 {
            try SysfsValue.unsigned(try tree.text("\(path)/\(name)"), unit: unit, path: tree.path("\(path)/\(name)"))
        }
        func optionalValue(_ name: String) throws(PowerSourceError) -> UInt32 {
            tree.exists("\(path)/\(name)") ? try value(name, "") : 0
        }
        func flag(_ name: String) throws(PowerSourceError) -> Bool {
            guard tree.exists("\(path)/\(name)") else { return false }
            return try SysfsValue.flag(try tree.text("\(path)/\(name)"), path: tree.path("\(path)/\(name)"))
        }
        let object: PowerDataObject
        switch type {
        case "fixed_supply":
            var flags: FixedSupplyFlags = []
            if position == 1 {
                if try flag("dual_role_power") { flags.insert(.dualRolePower) }
                if try flag("usb_suspend_supported") { flags.insert(.usbSuspendSupported) }
                if try flag("unconstrained_power") { flags.insert(.unconstrainedPower) }
                if try flag("usb_communication_capable") { flags.insert(.usbCommunicationCapable) }
                if try flag("dual_role_data") { flags.insert(.dualRoleData) }
                if try flag("unchunked_extended_messages_supported") { flags.insert(.unchunkedExtendedMessages) }
            }
            let peak = try optionalValue("peak_current")
            guard peak <= 3 else { throw PowerSourceError(.malformedValue, "\(tree.path(path))/peak_current: \(peak) is not 0...3") }
            object = .fixed(FixedSupplyPDO(
                millivolts: try value("voltage", "mV"), maximumMilliamps: try value("maximum_current", "mA"),
                peakCurrent: UInt8(peak), flags: flags))
        case "variable_supply":
            object = .variable(VariableSupplyPDO(
                minimumMillivolts: try value("minimum_voltage", "mV"), maximumMillivolts: try value("maximum_voltage", "mV"),
                maximumMilliamps: try value("maximum_current", "mA")))
        case "battery":
            object = .battery(BatterySupplyPDO(
                minimumMillivolts: try value("minimum_voltage", "mV"), maximumMillivolts: try value("maximum_voltage", "mV"),
                maximumMilliwatts: try value("maximum_power", "mW")))
        case "programmable_supply":
            object = .programmable(ProgrammableSupplyAPDO(
                minimumMillivolts: try value("minimum_voltage", "mV"), maximumMillivolts: try value("maximum_voltage", "mV"),
                maximumMilliamps: try value("maximum_current", "mA"), powerLimited: try flag("pps_power_limited")))
        case "spr_adjustable_voltage_supply":
            let peak = try optionalValue("peak_current")
            guard peak <= 3 else { throw PowerSourceError(.malformedValue, "\(tree.path(path))/peak_current: \(peak) is not 0...3") }
            object = .sprAdjustable(SPRAdjustableAPDO(
                maximumMilliamps9To15V: try value("maximum_current_9V_to_15V", "mA"),
                maximumMilliamps15To20V: try value("maximum_current_15V_to_20V", "mA"), peakCurrent: UInt8(peak)))
        default:
            throw PowerSourceError(.malformedValue, "\(tree.path(path)): unknown PDO type \"\(type)\"")
        }
        do {
            return try object.encoded()
        } catch {
            throw PowerSourceError(.malformedValue, "\(tree.path(path)): \(error.message)", cause: error)
        }
    }

    // MARK: power_supply

    private func readSupply(problems: inout [String]) -> SupplyReading? {
        guard tree.exists("class/power_supply"), let names = try? tree.entries("class/power_supply") else { return nil }
        let name = names.first { $0.hasPrefix("tcpm-source-psy-") }
            ?? names.first { (try? tree.text("class/power_supply/\($0)/type")) == "USB" }
        guard let name else { return nil }
        let base = "class/power_supply/\(name)"
        do {
            let online = try SysfsValue.unsigned(try tree.text("\(base)/online"), path: tree.path("\(base)/online"))
            var reading = SupplyReading(isOnline: online > 0)
            reading.usbType = (try? tree.text("\(base)/usb_type")).flatMap(SysfsValue.selected)
            if tree.exists("\(base)/voltage_max") {
                reading.maximumMillivolts = try SysfsValue.unsigned(
                    try tree.text("\(base)/voltage_max"), path: tree.path("\(base)/voltage_max")) / 1000
            }
            if tree.exists("\(base)/current_max") {
                reading.maximumMilliamps = try SysfsValue.unsigned(
                    try tree.text("\(base)/current_max"), path: tree.path("\(base)/current_max")) / 1000
            }
            return reading
        } catch {
            problems.append(error.message)
            return nil
        }
    }
}
