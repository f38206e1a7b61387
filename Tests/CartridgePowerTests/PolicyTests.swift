import CartridgePower
import Testing

/// Sources used across the matrix.
enum Chargers {
    static let fixed5V3A: UInt32 = LinuxPD.PDO_FIXED(5000, 3000, 0)
    /// A 45 W USB-C charger.
    static let charger45W = PowerSnapshot(
        sourceName: "45W charger", sourceCapabilities: [fixed5V3A, LinuxPD.PDO_FIXED(9000, 3000, 0), LinuxPD.PDO_FIXED(15000, 3000, 0)],
        typeCCurrent: .powerDelivery)
    /// A laptop port on battery offering 5 V 0.9 A through PD.
    static let laptopOnBattery = PowerSnapshot(
        sourceName: "laptop on battery", sourceCapabilities: [LinuxPD.PDO_FIXED(5000, 900, 0)], typeCCurrent: .powerDelivery)
    /// A 100 W charger with a PPS APDO.
    static let charger100W = PowerSnapshot(
        sourceName: "100W charger",
        sourceCapabilities: [
            fixed5V3A, LinuxPD.PDO_FIXED(9000, 3000, 0), LinuxPD.PDO_FIXED(15000, 3000, 0), LinuxPD.PDO_FIXED(20000, 5000, 0),
            LinuxPD.PDO_PPS_APDO(3300, 21000, 5000),
        ], typeCCurrent: .powerDelivery)
    /// A 240 W EPR charger (EPR_Source_Capabilities: SPR 1...4, zero 5...7, EPR 8...11).
    static func charger240W(cable: CableCapability) -> PowerSnapshot {
        PowerSnapshot(
            sourceName: "240W EPR charger",
            sourceCapabilities: [
                fixed5V3A | LinuxPD.BIT(23), LinuxPD.PDO_FIXED(9000, 3000, 0), LinuxPD.PDO_FIXED(15000, 3000, 0),
                LinuxPD.PDO_FIXED(20000, 5000, 0), 0, 0, 0, LinuxPD.PDO_FIXED(28000, 5000, 0), LinuxPD.PDO_FIXED(36000, 5000, 0),
                LinuxPD.PDO_FIXED(48000, 5000, 0),
                try! EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 240).encoded(),
            ], typeCCurrent: .powerDelivery, cable: cable)
    }
}

struct Expected: Sendable, CustomStringConvertible {
    var source: PowerSnapshot
    var profile: DevicePowerProfile
    var state: PowerState
    var position: Int
    var millivolts: UInt32
    var milliamps: UInt32
    var budget: UInt32
    var workers: Int
    var cap: Double?
    var draw: UInt32
    var description: String { "\(source.sourceName) x \(profile.name)" }
}

@Suite("Power policy")
struct PowerPolicyTests {
    /// Hand-computed: request current = min(offer, cable 3 A, board max, ceil(peak / V));
    /// budget = V x I x 90 %; workers = floor((budget - idle) / perWorker) capped at N.
    static let matrix: [Expected] = [
        // 45 W charger: every 5 V-only board takes 5 V; RK3588 ties 5/9/15 V at 15 W and takes the lowest voltage.
        Expected(source: Chargers.charger45W, profile: .raspberryPiZero2W, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 600, budget: 2700, workers: 4, cap: nil, draw: 2400),
        Expected(source: Chargers.charger45W, profile: .raspberryPi4, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 1500, budget: 6750, workers: 4, cap: nil, draw: 6500),
        Expected(source: Chargers.charger45W, profile: .raspberryPi5, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 2400, budget: 10800, workers: 4, cap: nil, draw: 9400),
        Expected(source: Chargers.charger45W, profile: .rk3588, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 3000, budget: 13500, workers: 8, cap: nil, draw: 12300),
        // Laptop on battery, 5 V 0.9 A = 4.5 W.
        Expected(source: Chargers.laptopOnBattery, profile: .raspberryPiZero2W, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 600, budget: 2700, workers: 4, cap: nil, draw: 2400),
        Expected(source: Chargers.laptopOnBattery, profile: .raspberryPi4, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 900, budget: 4050, workers: 1, cap: nil, draw: 3650),
        Expected(source: Chargers.laptopOnBattery, profile: .raspberryPi5, state: .capabilityMismatch, position: 1, millivolts: 5000,
                 milliamps: 900, budget: 4050, workers: 1, cap: 16.4, draw: 4050),
        Expected(source: Chargers.laptopOnBattery, profile: .rk3588, state: .capabilityMismatch, position: 1, millivolts: 5000,
                 milliamps: 900, budget: 4050, workers: 1, cap: 7.5, draw: 4050),
        // 100 W charger, default options (PPS off) and an unknown (3 A) cable: 20 V 5 A is clamped to 3 A.
        Expected(source: Chargers.charger100W, profile: .raspberryPi5, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 2400, budget: 10800, workers: 4, cap: nil, draw: 9400),
        Expected(source: Chargers.charger100W, profile: .rk3588, state: .contract, position: 1, millivolts: 5000,
                 milliamps: 3000, budget: 13500, workers: 8, cap: nil, draw: 12300),
        // Without PD: Type-C current and USB defaults at 5 V.
        Expected(source: PowerSnapshot(sourceName: "phone charger", typeCCurrent: .current1500), profile: .raspberryPi4,
                 state: .typeC, position: 0, millivolts: 5000, milliamps: 1500, budget: 6750, workers: 4, cap: nil, draw: 6500),
        Expected(source: PowerSnapshot(sourceName: "usb2 port", typeCCurrent: .usbDefault), profile: .raspberryPi4,
                 state: .typeC, position: 0, millivolts: 5000, milliamps: 500, budget: 2250, workers: 0, cap: nil, draw: 2700),
        Expected(source: PowerSnapshot(sourceName: "usb2 port", typeCCurrent: .usbDefault), profile: .raspberryPiZero2W,
                 state: .typeC, position: 0, millivolts: 5000, milliamps: 500, budget: 2250, workers: 3, cap: nil, draw: 1950),
        Expected(source: PowerSnapshot(sourceName: "usb3 port", typeCCurrent: .usbDefault, usbSpeed: .superSpeed),
                 profile: .raspberryPiZero2W, state: .typeC, position: 0, millivolts: 5000, milliamps: 900, budget: 2700, workers: 4,
                 cap: nil, draw: 2400),
        Expected(source: PowerSnapshot(sourceName: "3A port", typeCCurrent: .current3000), profile: .rk3588,
                 state: .typeC, position: 0, millivolts: 5000, milliamps: 3000, budget: 13500, workers: 8, cap: nil, draw: 12300),
        Expected(source: PowerSnapshot(sourceName: "micro-B host", usbConfiguredMilliamps: 500), profile: .raspberryPiZero2W,
                 state: .usbConfiguration, position: 0, millivolts: 5000, milliamps: 500, budget: 2250, workers: 3, cap: nil, draw: 1950),
        Expected(source: PowerSnapshot(sourceName: "bench", staticBudgetMilliwatts: 10000), profile: .raspberryPi5,
                 state: .staticBudget, position: 0, millivolts: 5000, milliamps: 2000, budget: 10000, workers: 4, cap: nil, draw: 9400),
        Expected(source: PowerSnapshot(sourceName: "unknown"), profile: .raspberryPi5,
                 state: .safeDefault, position: 0, millivolts: 5000, milliamps: 500, budget: 2500, workers: 0, cap: nil, draw: 3000),
    ]

    @Test("sources x board profiles", arguments: matrix)
    func matrixDecision(_ expected: Expected) {
        let decision = PowerPolicy(profile: expected.profile).decide(expected.source)
        #expect(decision.state == expected.state, "\(decision.reasons)")
        #expect((decision.contract?.position ?? 0) == expected.position)
        #expect(decision.supplyMillivolts == expected.millivolts)
        #expect(decision.supplyMilliamps == expected.milliamps)
        #expect(decision.budgetMilliwatts == expected.budget)
        #expect(decision.throttle.workerCount == expected.workers)
        #expect(decision.throttle.tokensPerSecondCap == expected.cap)
        #expect(decision.estimatedDrawMilliwatts == expected.draw)
    }

    @Test("capability mismatch: RDO states the current the board needs")
    func mismatchRequest() throws {
        let decision = PowerPolicy(profile: .raspberryPi5).decide(Chargers.laptopOnBattery)
        let contract = try #require(decision.contract)
        #expect(contract.request.flags.contains(.capabilityMismatch))
        #expect(contract.request.payload == .current(operatingMilliamps: 900, maximumMilliamps: 2400))
        #expect(contract.requestRaw == LinuxPD.RDO_FIXED(1, 900, 2400, LinuxPD.RDO_CAP_MISMATCH | LinuxPD.RDO_USB_COMM | LinuxPD.RDO_NO_SUSPEND))
        #expect(decision.reasons.first?.contains("Fixed 5V 0.9A") == true)
        #expect(decision.reasons.contains { $0.contains("capability mismatch") })
    }

    @Test("a normal request: USB communication capable, no USB suspend, operating = maximum")
    func normalRequest() throws {
        let decision = PowerPolicy(profile: .raspberryPi4).decide(Chargers.charger45W)
        let contract = try #require(decision.contract)
        #expect(contract.requestRaw == LinuxPD.RDO_FIXED(1, 1500, 1500, LinuxPD.RDO_USB_COMM | LinuxPD.RDO_NO_SUSPEND))
        #expect(decision.summary.requestDataObject == contract.requestRaw)
    }

    static let eprBoard = DevicePowerProfile(
        name: "epr-board", idleMilliwatts: 10000, milliwattsPerWorker: 10000, maximumWorkers: 8, peakMilliwatts: 120_000,
        inputMillivolts: 5000...48000, maximumInputMilliamps: 5000, tokensPerSecondPerWorker: 20)

    @Test("EPR: with an EPR cable the 28 V object at position 8 is requested in a 4-bit position")
    func eprContract() throws {
        let policy = PowerPolicy(profile: Self.eprBoard, options: .init(allowEPR: true))
        let decision = policy.decide(Chargers.charger240W(cable: .epr))
        let contract = try #require(decision.contract)
        #expect(contract.position == 8)
        #expect(contract.isEPR)
        #expect(contract.millivolts == 28000)
        #expect(contract.milliamps == 4290)
        #expect(contract.requestRaw >> 28 == 8)
        #expect(contract.request.flags.contains(.eprModeCapable))
        #expect(decision.budgetMilliwatts == 108_108)
        #expect(decision.throttle.workerCount == 8)
    }

    @Test("EPR objects are skipped without an EPR cable, without EPR enabled, or without PDO 1's EPR flag")
    func eprRules() throws {
        let fiveAmp = PowerPolicy(profile: Self.eprBoard, options: .init(allowEPR: true)).decide(Chargers.charger240W(cable: .fiveAmp))
        #expect(fiveAmp.contract?.position == 4)
        #expect(fiveAmp.contract?.milliamps == 5000)
        #expect(fiveAmp.reasons.contains { $0.contains("PDO 8") && $0.contains("EPR 50V 5A cable") })

        let disabled = PowerPolicy(profile: Self.eprBoard).decide(Chargers.charger240W(cable: .epr))
        #expect(disabled.contract?.position == 4)
        #expect(disabled.reasons.contains { $0.contains("EPR not enabled") })

        var noFlag = Chargers.charger240W(cable: .epr)
        noFlag.sourceCapabilities[0] = Chargers.fixed5V3A
        let unflagged = PowerPolicy(profile: Self.eprBoard, options: .init(allowEPR: true)).decide(noFlag)
        #expect(unflagged.contract?.position == 4)

        // 3 A cable: 20 V 5 A is clamped to 3 A (60 W).
        let threeAmp = PowerPolicy(profile: Self.eprBoard, options: .init(allowEPR: true)).decide(Chargers.charger240W(cable: .unknown))
        #expect(threeAmp.contract?.position == 4)
        #expect(threeAmp.contract?.milliamps == 3000)
    }

    @Test("EPR AVS when asked: lowest voltage that reaches the peak (24 V x 5 A = 120 W)")
    func eprAdjustable() throws {
        let policy = PowerPolicy(profile: Self.eprBoard, options: .init(allowProgrammableSupply: true, allowEPR: true))
        let contract = try #require(policy.decide(Chargers.charger240W(cable: .epr)).contract)
        #expect(contract.position == 11)
        #expect(contract.request.payload == .adjustable(outputMillivolts: 24000, operatingMilliamps: 5000))
        #expect(contract.requestRaw >> 28 == 11)
    }

    @Test("PPS only when asked; at equal power a fixed object wins over an APDO")
    func ppsRules() throws {
        let pi5 = PowerPolicy(profile: .raspberryPi5, options: .init(allowProgrammableSupply: true))
        var fiveAmp = Chargers.charger100W
        fiveAmp.cable = .fiveAmp
        #expect(pi5.decide(fiveAmp).contract?.position == 1)

        let weakFixed = PowerSnapshot(
            sourceName: "pps charger", sourceCapabilities: [LinuxPD.PDO_FIXED(5000, 2000, 0), LinuxPD.PDO_PPS_APDO(3300, 11000, 5000)],
            cable: .fiveAmp)
        let withPPS = try #require(pi5.decide(weakFixed).contract)
        #expect(withPPS.position == 2)
        #expect(withPPS.request.payload == .programmable(outputMillivolts: 5000, operatingMilliamps: 2400))
        let withoutPPS = PowerPolicy(profile: .raspberryPi5).decide(weakFixed)
        #expect(withoutPPS.contract?.position == 1)
        #expect(withoutPPS.budgetMilliwatts == 9000)
        #expect(withoutPPS.reasons.contains { $0.contains("PPS/AVS not enabled") })
    }

    /// Issue 13, defect 10: an SPR PPS APDO up to 21 V is not EPR; it is usable without `allowEPR`.
    @Test("an SPR PPS APDO up to 21 V is requested without EPR")
    func pps21VoltIsNotEPR() throws {
        let board = DevicePowerProfile(
            name: "21v-board", idleMilliwatts: 5000, milliwattsPerWorker: 10000, maximumWorkers: 8, peakMilliwatts: 100_000,
            inputMillivolts: 21000...21000, maximumInputMilliamps: 5000, tokensPerSecondPerWorker: 20)
        let snapshot = PowerSnapshot(
            sourceName: "pps charger",
            sourceCapabilities: [Chargers.fixed5V3A, LinuxPD.PDO_PPS_APDO(3300, 21000, 5000)], cable: .fiveAmp)
        let decision = PowerPolicy(profile: board, options: .init(allowProgrammableSupply: true)).decide(snapshot)
        let contract = try #require(decision.contract, "\(decision.reasons)")
        #expect(contract.position == 2)
        #expect(!contract.isEPR)
        #expect(!decision.reasons.contains { $0.contains("EPR") })
        #expect(contract.request.payload == .programmable(outputMillivolts: 21000, operatingMilliamps: 4800))
    }

    @Test("lower voltage wins at equal usable power, also when listed later")
    func preferLowerVoltage() throws {
        // Objects out of the usual order (noted), 9 V first: both give the RK3588's 15 W peak.
        let snapshot = PowerSnapshot(
            sourceName: "odd", sourceCapabilities: [Chargers.fixed5V3A, LinuxPD.PDO_FIXED(12000, 3000, 0), LinuxPD.PDO_FIXED(9000, 3000, 0)])
        var board = DevicePowerProfile.rk3588
        board.inputMillivolts = 9000...20000
        let contract = try #require(PowerPolicy(profile: board).decide(snapshot).contract)
        #expect(contract.position == 3)
        #expect(contract.millivolts == 9000)
        #expect(contract.milliamps == 1670)
    }

    @Test("odd PD data: untrusted PDO 1 falls back to the safe default, ignoring Rp")
    func untrustedFallsBack() {
        let snapshot = PowerSnapshot(
            sourceName: "broken", sourceCapabilities: [LinuxPD.PDO_FIXED(9000, 3000, 0), 0xF000_0000], typeCCurrent: .current3000)
        let decision = PowerPolicy(profile: .raspberryPi4).decide(snapshot)
        #expect(decision.state == .safeDefault)
        #expect(decision.budgetMilliwatts == 2500)
        #expect(decision.contract == nil)
        #expect(decision.reasons.contains { $0.contains("vSafe5V") })
        #expect(decision.reasons.contains { $0.contains("Rp") })
    }

    @Test("adapter problems are carried into the reasons")
    func problemsInReasons() {
        let snapshot = PowerSnapshot(sourceName: "sysfs", typeCCurrent: .powerDelivery, problems: ["voltage: expected ... found \"x\""])
        let decision = PowerPolicy(profile: .raspberryPi4).decide(snapshot)
        #expect(decision.state == .safeDefault)
        #expect(decision.reasons.contains { $0.hasPrefix("problem: voltage") })
    }

    @Test("detached: safe default")
    func detached() {
        let decision = PowerPolicy(profile: .raspberryPiZero2W).decide(PowerSnapshot(sourceName: "x", isAttached: false))
        #expect(decision.state == .safeDefault)
        #expect(decision.reasons.first == "no power partner attached")
    }

    @Test("power_supply reading gives the budget when capabilities are not visible")
    func powerSupply() {
        let snapshot = PowerSnapshot(
            sourceName: "port0", typeCCurrent: .powerDelivery,
            supply: SupplyReading(isOnline: true, usbType: "PD", maximumMillivolts: 9000, maximumMilliamps: 3000))
        let decision = PowerPolicy(profile: .rk3588).decide(snapshot)
        #expect(decision.state == .powerSupply)
        #expect(decision.budgetMilliwatts == 13500)
        #expect(decision.supplyMillivolts == 9000)
    }
}

@Suite("Throttle and bMaxPower")
struct ThrottleTests {
    @Test("budget to workers and tok/s cap", arguments: [
        (UInt32(0), 0, Double?.none, UInt32(3000)),
        (3000, 0, nil, 3000),
        (3800, 1, 12.5, 3800),  // half a worker: one worker at half its 25 tok/s
        (4600, 1, nil, 4600),
        (7900, 3, nil, 7800),
        (50_000, 4, nil, 9400),
    ])
    func throttle(budget: UInt32, workers: Int, cap: Double?, draw: UInt32) {
        let (throttle, estimated) = PowerPolicy(profile: .raspberryPi5).throttle(forBudget: budget)
        #expect(throttle.workerCount == workers)
        #expect(throttle.tokensPerSecondCap == cap)
        #expect(estimated == draw)
    }

    @Test("bMaxPower: 2 mA units up to 500 mA at USB 2.0, 8 mA up to 900 mA at SuperSpeed", arguments: [
        (UInt32(100), USBSpeed.high, UInt8(50), UInt32(100)),
        (450, .high, 225, 450),
        (2000, .high, 250, 500),
        (540, .superSpeed, 67, 536),
        (5000, .superSpeed, 112, 896),
        (1, .high, 0, 0),
    ])
    func maxPower(milliamps: UInt32, speed: USBSpeed, value: UInt8, declared: UInt32) {
        let power = GadgetMaxPower(milliamps: milliamps, speed: speed)
        #expect(power.descriptorValue == value)
        #expect(power.milliamps == declared)
    }

    @Test("bMaxPower follows the budget")
    func maxPowerFollowsBudget() {
        let policy = PowerPolicy(profile: .raspberryPiZero2W)
        let usb2 = policy.decide(PowerSnapshot(sourceName: "usb2", typeCCurrent: .usbDefault))
        #expect(usb2.maxPower.milliamps == 450)
        let charger = policy.decide(Chargers.charger45W)
        #expect(charger.maxPower.milliamps == 500)
    }

    @Test("summary carries the plain fields for the POWER message")
    func summary() {
        let decision = PowerPolicy(profile: .raspberryPi5).decide(Chargers.laptopOnBattery)
        let summary = decision.summary
        #expect(summary.sourceName == "laptop on battery")
        #expect(summary.offeredObjects == [LinuxPD.PDO_FIXED(5000, 900, 0)])
        #expect(summary.offeredDescriptions == ["Fixed 5V 0.9A"])
        #expect(summary.contractPosition == 1)
        #expect(summary.contractMillivolts == 5000)
        #expect(summary.contractMilliamps == 900)
        #expect(summary.budgetMilliwatts == 4050)
        #expect(summary.workerCount == 1)
        #expect(summary.tokensPerSecondCap == 16.4)
        #expect(summary.stateName == "usb-pd mismatch")
        #expect(summary.stateText.contains("capability mismatch"))
    }
}

@Suite("Profile specifications")
struct ProfileSpecificationTests {
    @Test("presets and custom profiles")
    func parses() throws {
        #expect(try DevicePowerProfile(specification: "pi4") == .raspberryPi4)
        let tuned = try DevicePowerProfile(specification: "pi4,peak=9W,workers=2")
        #expect(tuned.peakMilliwatts == 9000)
        #expect(tuned.maximumWorkers == 2)
        #expect(tuned.idleMilliwatts == DevicePowerProfile.raspberryPi4.idleMilliwatts)
        let custom = try DevicePowerProfile(specification: "idle=1.2W,worker=0.5W,workers=6,peak=5W,input=5-12V,current=2.5A,rate=7.5")
        #expect(custom.idleMilliwatts == 1200)
        #expect(custom.milliwattsPerWorker == 500)
        #expect(custom.inputMillivolts == 5000...12000)
        #expect(custom.maximumInputMilliamps == 2500)
        #expect(custom.tokensPerSecondPerWorker == 7.5)
    }

    @Test("bad specifications are refused", arguments: ["pi6", "pi4,peak=9", "idle", "idle=1W,volts=5V", "input=12-5V", "workers=-1"])
    func refuses(specification: String) {
        #expect(throws: PowerError.self) { try DevicePowerProfile(specification: specification) }
    }
}
