import CartridgePower
import CartridgePowerSources
import Testing

@Suite("Scripted power sources")
struct ScriptTests {
    @Test("the demo script: 45 W, then 4.5 W, then 45 W")
    func parsesDemo() throws {
        let script = try PowerScript(parsing: """
            # demo
            at 0s: source "45W charger" fixed 5V 3A usb-comm, fixed 9V 3A, fixed 15V 3A

            at 2s: source "laptop on battery" fixed 5V 0.9A
            at 2.5s: typec "phone charger" 1.5A
            at 3000ms: usb "old hub" 100mA usb3
            at 0.1min: static "bench" 7.5W
            at 7s: detach
            """, name: "demo.power")
        #expect(script.events.map(\.offset) == [.zero, .seconds(2), .milliseconds(2500), .seconds(3), .seconds(6), .seconds(7)])
        #expect(script.events.map(\.line) == [2, 4, 5, 6, 7, 8])
        let charger = script.events[0].snapshot
        #expect(charger.sourceName == "45W charger")
        #expect(charger.sourceCapabilities == [
            LinuxPD.PDO_FIXED(5000, 3000, LinuxPD.PDO_FIXED_USB_COMM), LinuxPD.PDO_FIXED(9000, 3000, 0), LinuxPD.PDO_FIXED(15000, 3000, 0),
        ])
        #expect(script.events[1].snapshot.sourceCapabilities == [LinuxPD.PDO_FIXED(5000, 900, 0)])
        #expect(script.events[2].snapshot.typeCCurrent == .current1500)
        #expect(script.events[3].snapshot.usbConfiguredMilliamps == 100)
        #expect(script.events[3].snapshot.usbSpeed == .superSpeed)
        #expect(script.events[4].snapshot.staticBudgetMilliwatts == 7500)
        #expect(!script.events[5].snapshot.isAttached)

        let policy = PowerPolicy(profile: .raspberryPi5)
        #expect(policy.decide(charger).budgetMilliwatts == 10800)
        #expect(policy.decide(script.events[1].snapshot).budgetMilliwatts == 4050)
    }

    @Test("every object kind and the cable state")
    func objectKinds() throws {
        let script = try PowerScript(parsing: """
            at 0s: cable epr
            at 0s: source "all" fixed 5V 3A epr drp peak 2, variable 5-12V 2A, battery 5-20V 45W, pps 3.3-11V 3A limited, empty, spr-avs 3A 2.25A, empty, avs 15-48V 240W, raw 0x0001912C
            at 1s: cable 3A
            """)
        let snapshot = script.events[1].snapshot
        #expect(snapshot.cable == .epr)
        let caps = SourceCapabilities(rawObjects: snapshot.sourceCapabilities)
        #expect(caps.objects.count == 9)
        #expect(caps.isEPRModeCapable)
        #expect(caps.objects[0].object == .fixed(FixedSupplyPDO(millivolts: 5000, maximumMilliamps: 3000, peakCurrent: 2, flags: [.eprModeCapable, .dualRolePower])))
        #expect(caps.objects[1].raw == LinuxPD.PDO_VAR(5000, 12000, 2000))
        #expect(caps.objects[2].raw == LinuxPD.PDO_BATT(5000, 20000, 45000))
        #expect(caps.objects[3].raw == LinuxPD.PDO_PPS_APDO(3300, 11000, 3000) | 1 << 27)
        #expect(caps.objects[4].object == .empty)
        #expect(caps.objects[5].raw == 0xE004_B0E1)
        #expect(caps.objects[7].object == .eprAdjustable(EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 240)))
        #expect(caps.objects[8].raw == 0x0001_912C)
        #expect(script.events[2].snapshot.cable == .unknown)
        #expect(script.events[2].snapshot.sourceCapabilities == snapshot.sourceCapabilities)
    }

    @Test("bad files give the file name and line number", arguments: [
        ("at 0s: source \"a\" fixed 5V 3A\nat 1s: charger \"b\"", "bad.power:2:", "unknown event"),
        ("\n\nat soon: detach", "bad.power:3:", "bad time"),
        ("at 2s: detach\nat 1s: detach", "bad.power:2:", "earlier"),
        ("at 0s: source \"a fixed 5V 3A", "bad.power:1:", "unterminated"),
        ("at 0s: source \"a\" fixed 5.01V 3A", "bad.power:1:", "not a multiple of 50"),
        ("at 0s: source \"a\" fixed 5V 3A, fixed 9V 3A epr", "bad.power:1:", "only allowed on the first"),
        ("at 0s: source \"a\" fixed 5V", "bad.power:1:", "needs a voltage and a current"),
        ("at 0s: source \"a\" fixed 5V 3 A", "bad.power:1:", "bad current"),
        ("at 0s: source \"a\" raw 12345", "bad.power:1:", "32-bit hex"),
        ("at 0s: typec \"a\" 2A", "bad.power:1:", "not default, 1.5A or 3A"),
        ("at 0s: cable 4A", "bad.power:1:", "cable must be"),
        ("source \"a\" fixed 5V 3A", "bad.power:1:", "expected 'at <time>: <event>'"),
        ("# only a comment\n", "bad.power", "no events"),
        ("at 0s: source \"a\"", "bad.power:1:", "lists no objects"),
        ("at 0s: source \"a\" pps 3.3-30V 3A", "bad.power:1:", "exceeds"),
    ])
    func badFiles(text: String, location: String, problem: String) {
        do {
            _ = try PowerScript(parsing: text, name: "bad.power")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.code == .scriptSyntax)
            #expect(error.message.hasPrefix(location), "\(error.message)")
            #expect(error.message.contains(problem), "\(error.message)")
        }
    }

    @Test("a missing file is reported as such")
    func missingFile() {
        do {
            _ = try ScriptedPowerSource(file: "/nonexistent/cartridge.power")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.code == .missingFile)
            #expect(error.message.contains("/nonexistent/cartridge.power"))
        }
    }

    @Test("the example files in docs/power-sources parse",
          arguments: ["laptop-unplugged.power", "chargers-tour.power", "epr-240w.power", "odd-charger.power"])
    func examples(name: String) throws {
        let path = Self.repositoryRoot + "/docs/power-sources/" + name
        let source = try ScriptedPowerSource(file: path)
        #expect(!source.script.events.isEmpty)
        let policy = PowerPolicy(profile: .raspberryPi5)
        for event in source.script.events { _ = policy.decide(event.snapshot) }
    }

    @Test("odd charger example: flags noted, impossible objects skipped")
    func oddCharger() throws {
        let source = try ScriptedPowerSource(file: Self.repositoryRoot + "/docs/power-sources/odd-charger.power")
        let decision = PowerPolicy(profile: .rk3588).decide(source.script.events[0].snapshot)
        #expect(decision.contract?.position == 2)
        #expect(decision.reasons.contains { $0.contains("PDO 2: flag bits") })
        #expect(decision.reasons.contains { $0.contains("PDO 3") && $0.contains("not used") })
        let broken = PowerPolicy(profile: .rk3588).decide(source.script.events[1].snapshot)
        #expect(broken.state == .safeDefault)
    }

    @Test("replay yields each snapshot no earlier than its offset, in order", .timeLimit(.minutes(1)))
    func replayTiming() async throws {
        let script = try PowerScript(parsing: """
            at 0ms: source "a" fixed 5V 3A
            at 150ms: source "b" fixed 5V 0.9A
            at 300ms: typec "c" 1.5A
            """)
        let clock = ContinuousClock()
        let start = clock.now
        var names: [String] = []
        var elapsed: [Duration] = []
        for await snapshot in ScriptedPowerSource(script: script).snapshots() {
            names.append(snapshot.sourceName)
            elapsed.append(start.duration(to: clock.now))
        }
        #expect(names == ["a", "b", "c"])
        #expect(elapsed[1] >= .milliseconds(150))
        #expect(elapsed[2] >= .milliseconds(300))
        #expect(elapsed[2] < .seconds(10))
    }

    @Test("a static source yields one snapshot")
    func staticSource() async {
        var snapshots: [PowerSnapshot] = []
        for await snapshot in StaticPowerSource(milliwatts: 6000).snapshots() { snapshots.append(snapshot) }
        #expect(snapshots.count == 1)
        #expect(PowerPolicy(profile: .raspberryPi4).decide(snapshots[0]).budgetMilliwatts == 6000)
    }

    static let repositoryRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()
}

@Suite("Source specifications")
struct SourceSpecificationTests {
    @Test("sysfs, static and file specifications")
    func specifications() throws {
        #expect(try PowerSourceSpecification.source("sysfs") is PowerSourceWatcher)
        let watcher = try #require(try PowerSourceSpecification.source("sysfs:/tmp/fake") as? PowerSourceWatcher)
        #expect(watcher.reader.tree.root == "/tmp/fake")
        #expect((try PowerSourceSpecification.source("static:7.5W") as? StaticPowerSource)?.milliwatts == 7500)
        #expect((try PowerSourceSpecification.source("static:900mW") as? StaticPowerSource)?.milliwatts == 900)
        #expect(throws: PowerSourceError.self) { try PowerSourceSpecification.source("static:lots") }
        #expect(throws: PowerSourceError.self) { try PowerSourceSpecification.source("/nonexistent.power") }
        let scripted = try PowerSourceSpecification.source(ScriptTests.repositoryRoot + "/docs/power-sources/laptop-unplugged.power")
        #expect((scripted as? ScriptedPowerSource)?.script.events.count == 3)
    }
}
