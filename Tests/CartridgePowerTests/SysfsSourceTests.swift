import CartridgePower
import CartridgePowerSources
import Testing

@Suite("sysfs values")
struct SysfsValueTests {
    @Test("unit suffixes and plain numbers", arguments: [("5000mV", "mV", UInt32(5000)), ("5000", "mV", 5000), ("0", "", 0), ("3000mA", "mA", 3000)])
    func parses(text: String, unit: String, value: UInt32) throws {
        #expect(try SysfsValue.unsigned(text, unit: unit, path: "f") == value)
    }

    @Test("garbage, wrong units, signs and overflow are errors naming the file and the text",
          arguments: ["5000mA", "five volts", "", "-5", "5 000", "99999999999", "5000mVx"])
    func refuses(text: String) {
        do {
            _ = try SysfsValue.unsigned(text, unit: "mV", path: "/sys/x/voltage")
            Issue.record("accepted \"\(text)\"")
        } catch {
            #expect(error.code == .malformedValue)
            #expect(error.message.contains("/sys/x/voltage"))
            #expect(error.message.contains("\"\(text)\""))
        }
    }

    @Test("choice attributes")
    func selected() {
        #expect(SysfsValue.selected("source [sink]") == "sink")
        #expect(SysfsValue.selected("C [PD] PD_PPS") == "PD")
        #expect(SysfsValue.selected("default") == "default")
        #expect(SysfsValue.selected("a b") == nil)
    }
}

@Suite("Linux power source reader")
struct LinuxPowerSourceReaderTests {
    @Test("reads the partner's capabilities and rebuilds the raw PDO words")
    func readsCapabilities() throws {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.problems.isEmpty, "\(snapshot.problems)")
        #expect(snapshot.isAttached)
        #expect(snapshot.sourceName == "port0-partner")
        #expect(snapshot.typeCCurrent == .powerDelivery)
        #expect(snapshot.sourceCapabilities == [
            LinuxPD.PDO_FIXED(5000, 3000, LinuxPD.PDO_FIXED_USB_COMM), LinuxPD.PDO_FIXED(9000, 3000, 0), LinuxPD.PDO_PPS_APDO(3300, 11000, 3000),
        ])
        let decision = PowerPolicy(profile: .raspberryPi4).decide(snapshot)
        #expect(decision.state == .contract)
        #expect(decision.contract?.position == 1)
        #expect(decision.contract?.milliamps == 1500)
    }

    @Test("a malformed attribute drops the capabilities with a clear problem; the policy uses the safe default")
    func malformedValue() throws {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        tree.write("class/usb_power_delivery/pd1/source-capabilities/2:fixed_supply/voltage", "nine volts")
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.sourceCapabilities.isEmpty)
        #expect(snapshot.problems.contains { $0.contains("2:fixed_supply/voltage") && $0.contains("\"nine volts\"") })
        let decision = PowerPolicy(profile: .raspberryPi4).decide(snapshot)
        #expect(decision.state == .safeDefault)
        #expect(decision.budgetMilliwatts == 2500)
    }

    @Test("a wrong unit suffix is refused")
    func wrongUnit() {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        tree.write("class/usb_power_delivery/pd1/source-capabilities/1:fixed_supply/maximum_current", "3000mV")
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.sourceCapabilities.isEmpty)
        #expect(snapshot.problems.contains { $0.contains("maximum_current") && $0.contains("mA") })
    }

    @Test("a missing attribute file is reported by path")
    func missingFile() {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        tree.delete("class/usb_power_delivery/pd1/source-capabilities/2:fixed_supply/maximum_current")
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.sourceCapabilities.isEmpty)
        #expect(snapshot.problems.contains { $0.contains("2:fixed_supply/maximum_current does not exist") })
        #expect(PowerPolicy(profile: .raspberryPi5).decide(snapshot).state == .safeDefault)
    }

    @Test("unknown PDO types, bad directory names and gaps are reported")
    func oddDirectories() {
        let caps = "class/usb_power_delivery/pd1/source-capabilities"
        for (name, expected) in [("5:fixed_supply", "position 4 is missing"), ("4:mystery_supply", "unknown PDO type"), ("x:fixed_supply", "not a <position>:<type>")] {
            let tree = FakeSysfs.pdCharger()
            tree.write("\(caps)/\(name)/voltage", "20000mV")
            tree.write("\(caps)/\(name)/maximum_current", "3000mA")
            let snapshot = LinuxPowerSourceReader(root: tree.root).read()
            #expect(snapshot.sourceCapabilities.isEmpty, "\(name)")
            #expect(snapshot.problems.contains { $0.contains(expected) }, "\(name): \(snapshot.problems)")
            tree.remove()
        }
    }

    @Test("values that do not fit a PDO field (5010 mV) are reported")
    func unencodable() {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        tree.write("class/usb_power_delivery/pd1/source-capabilities/2:fixed_supply/voltage", "9010mV")
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.problems.contains { $0.contains("not a multiple of 50") })
    }

    @Test("Type-C current without PD, and an empty tree")
    func typeCOnly() {
        let tree = FakeSysfs()
        defer { tree.remove() }
        let empty = LinuxPowerSourceReader(root: tree.root).read()
        #expect(empty.problems.isEmpty)
        #expect(empty.typeCCurrent == nil)
        #expect(PowerPolicy(profile: .raspberryPiZero2W).decide(empty).state == .safeDefault)

        tree.write("class/typec/port0/power_role", "source [sink]")
        tree.write("class/typec/port0/power_operation_mode", "1.5A")
        tree.makeDirectories("class/typec/port0-partner")
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.typeCCurrent == .current1500)
        let decision = PowerPolicy(profile: .raspberryPi4).decide(snapshot)
        #expect(decision.state == .typeC)
        #expect(decision.budgetMilliwatts == 6750)

        tree.write("class/typec/port0/power_operation_mode", "2.0A")
        #expect(LinuxPowerSourceReader(root: tree.root).read().problems.contains { $0.contains("unknown mode \"2.0A\"") })
    }

    @Test("TCPM power_supply in µV/µA")
    func powerSupply() {
        let tree = FakeSysfs()
        defer { tree.remove() }
        tree.write("class/typec/port0/power_role", "source [sink]")
        tree.write("class/typec/port0/power_operation_mode", "usb_power_delivery")
        tree.makeDirectories("class/typec/port0-partner")
        let supply = "class/power_supply/tcpm-source-psy-4-0022"
        tree.write("\(supply)/online", "1")
        tree.write("\(supply)/usb_type", "C [PD] PD_PPS")
        tree.write("\(supply)/voltage_max", "9000000")
        tree.write("\(supply)/current_max", "3000000")
        let snapshot = LinuxPowerSourceReader(root: tree.root).read()
        #expect(snapshot.supply == SupplyReading(isOnline: true, usbType: "PD", maximumMillivolts: 9000, maximumMilliamps: 3000))
        #expect(snapshot.problems.contains { $0.contains("source-capabilities") })
        let decision = PowerPolicy(profile: .rk3588).decide(snapshot)
        #expect(decision.state == .powerSupply)
        #expect(decision.budgetMilliwatts == 13500)

        tree.write("\(supply)/voltage_max", "9V")
        let broken = LinuxPowerSourceReader(root: tree.root).read()
        #expect(broken.supply == nil)
        #expect(broken.problems.contains { $0.contains("voltage_max") && $0.contains("\"9V\"") })
    }

    @Test("the watcher yields the first snapshot and then each change", .timeLimit(.minutes(1)))
    func watcher() async throws {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        let watcher = PowerSourceWatcher(reader: LinuxPowerSourceReader(root: tree.root), interval: .milliseconds(20))
        var iterator = watcher.snapshots().makeAsyncIterator()
        let first = try #require(await iterator.next())
        #expect(first.sourceCapabilities.count == 3)
        tree.write("class/usb_power_delivery/pd1/source-capabilities/1:fixed_supply/maximum_current", "900mA")
        let second = try #require(await iterator.next())
        #expect(second.sourceCapabilities.first == LinuxPD.PDO_FIXED(5000, 900, LinuxPD.PDO_FIXED_USB_COMM))
    }

    @Test("cancelling the consumer ends the watcher's stream", .timeLimit(.minutes(1)))
    func watcherCancellation() async throws {
        let tree = FakeSysfs.pdCharger()
        defer { tree.remove() }
        let watcher = PowerSourceWatcher(reader: LinuxPowerSourceReader(root: tree.root), interval: .milliseconds(20))
        let count = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                var seen = 0
                for await _ in watcher.snapshots() { seen += 1 }
                return seen
            }
            try? await Task.sleep(for: .milliseconds(200))
            group.cancelAll()
            return await group.next() ?? -1
        }
        #expect(count == 1)  // nothing changed after the first snapshot
    }
}
