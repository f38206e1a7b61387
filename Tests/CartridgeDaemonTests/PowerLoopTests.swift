import CartridgeClient
import CartridgeDaemon
import CartridgeTestSupport
import CartridgePower
import CartridgePowerSources
import CartridgeWire
import Logging
import Synchronization
import Testing

/// The power loop end to end: a real cartridged with a scripted source (45 W charger, then a
/// laptop on battery at 4.5 W, then the charger again) while a generation streams.
@Suite("Power loop end to end", .serialized)
struct PowerLoopTests {
    /// A board whose single worker costs 20 W, so both budgets give a rate cap:
    /// 45 W charger -> 5 V 3 A -> budget 13.5 W -> (13.5 - 1) / 20 x 20 tok/s = 12.5 tok/s;
    /// laptop 5 V 0.9 A -> budget 4.05 W -> (4.05 - 1) / 20 x 20 = 3.05 tok/s.
    static let profile = "idle=1W,worker=20W,workers=1,peak=50W,current=5A,rate=20"

    /// The end-to-end test needs a daemon that can serve the tiny checkpoint.
    static let daemonServesCheckpoints: Bool = {
        do {
            let directory = try TemporaryDirectory("power-probe")
            let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
            let tokenizer = try directory.write(SyntheticTokenizer.fileBytes(size: TinyCheckpoint.vocabulary), to: "tokenizer.bin")
            _ = try ServedModelLoader.loadCheckpoint(path: checkpoint, tokenizerPath: tokenizer, logger: Logger(label: "probe"))
            return true
        } catch {
            print("PowerLoopTests: skipping the end-to-end generation test: \(error)")
            return false
        }
    }()

    @Test("a generation keeps streaming through 45 W -> 4.5 W -> 45 W; the throttle follows within 1 s; POWER updates arrive",
          .enabled(if: daemonServesCheckpoints), .timeLimit(.minutes(1)))
    func sourceDropsAndReturns() async throws {
        let directory = try TemporaryDirectory("power-e2e")
        let script = try directory.write(Array("""
            at 0s: source "45W charger" fixed 5V 3A, fixed 9V 3A, fixed 15V 3A
            at 2.5s: source "laptop on battery" fixed 5V 0.9A
            at 5s: source "45W charger" fixed 5V 3A, fixed 9V 3A, fixed 15V 3A
            """.utf8), to: "laptop.power")
        let daemon = try await RunningDaemon(extraArguments: ["--power-source", script, "--power-profile", Self.profile])
        let clock = ContinuousClock()
        let start = clock.now

        let watcher = try await daemon.connect()
        let generator = try await daemon.connect()
        let initial = try await watcher.powerStatus()
        // The monitor runs beside the server: a very early reply may still be the unmanaged status.
        #expect(["unmanaged", "45W charger", "laptop on battery"].contains(initial.source), "\(initial.source)")

        let maximumTokens: UInt32 = 70
        async let powerLog: [(Duration, PowerStatus)] = {
            var log: [(Duration, PowerStatus)] = []
            for try await status in try await watcher.powerUpdates() {
                log.append((start.duration(to: clock.now), status))
                if log.count > 1 && status.source == "45W charger" && log.contains(where: { $0.1.source == "laptop on battery" }) { break }
            }
            return log
        }()
        var tokens: [(Duration, GeneratedToken)] = []
        var summary: GenerationSummary?
        for try await event in try await generator.generate(GenerateRequest(prompt: .text("Once upon a time"), maximumTokens: maximumTokens)) {
            switch event {
            case .token(let token): tokens.append((start.duration(to: clock.now), token))
            case .done(let done): summary = done
            case .promptToken: break
            }
        }
        let log = try await powerLog
        _ = await daemon.stop()

        // No token lost: indexes 0..<N in order, and the summary agrees.
        #expect(tokens.map(\.1.index) == Array(0..<maximumTokens))
        #expect(summary?.generatedTokens == maximumTokens)

        // The POWER notifications reached the client with the throttle of each source.
        let laptop = try #require(log.first { $0.1.source == "laptop on battery" })
        let back = try #require(log.last { $0.1.source == "45W charger" })
        #expect(laptop.1.budgetMilliwatts == 4050)
        #expect(abs(laptop.1.tokensPerSecondCap - 3.05) < 0.01)
        #expect(abs(back.1.tokensPerSecondCap - 12.5) < 0.01)
        #expect(laptop.1.state.contains("Fixed 5V 0.9A"))

        // Within one second of the drop, tokens come at the laptop's rate (<= 3.05 tok/s, gaps >= ~0.3 s).
        let slow = tokens.filter { $0.0 > laptop.0 + .seconds(1) && $0.0 < back.0 }
        #expect(slow.count >= 2, "tokens during the laptop phase: \(slow.count)")
        if slow.count >= 2 {
            // 328 ms a token at 3.05 tok/s. Measured at the client, one token delivered late
            // shortens the gap after it, so the rate is checked over the whole phase, with a
            // margin of 150 ms for lateness at the phase's ends (uncapped, tokens of this model
            // come every few milliseconds, so a broken throttle misses this by far).
            let span = slow[0].0.duration(to: slow[slow.count - 1].0)
            #expect(span >= .milliseconds(328 * (slow.count - 1) - 150), "\(slow.count) tokens in \(span) during the laptop phase")
        }
        // And faster again within one second after the charger returns.
        let fast = tokens.filter { $0.0 > back.0 + .seconds(1) }
        if fast.count >= 3 {
            let span = fast[0].0.duration(to: fast[fast.count - 1].0)
            let rate = Double(fast.count - 1) / (Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18)
            #expect(rate > 5, "rate after the charger returned: \(rate)")
        }
    }
}

@Suite("Power monitor")
struct PowerMonitorTests {
    @Test("scripted snapshots are decided and published in order, on time, with the worker count applied",
          .timeLimit(.minutes(1)))
    func publishesDecisions() async throws {
        let script = try PowerScript(parsing: """
            at 0ms: source "45W charger" fixed 5V 3A, fixed 9V 3A, fixed 15V 3A
            at 300ms: source "laptop on battery" fixed 5V 0.9A
            at 600ms: typec "usb2 port" default
            """)
        let applied = Mutex<[Int]>([])
        let controller = PowerController(initial: PowerController.unmanagedStatus(workerCount: 2)) { count in
            applied.withLock { $0.append(count) }
        }
        let (changes, finish) = controller.changes()
        let monitor = PowerMonitor(
            source: ScriptedPowerSource(script: script), policy: PowerPolicy(profile: .raspberryPi5), controller: controller,
            logger: Logger(label: "test"))
        let clock = ContinuousClock()
        let start = clock.now
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await monitor.run() }
            var received: [(Duration, PowerStatus)] = []
            for await status in changes {
                received.append((start.duration(to: clock.now), status))
                if received.count == 3 { break }
            }
            finish()
            group.cancelAll()

            #expect(received.map(\.1.source) == ["45W charger", "laptop on battery", "usb2 port"])
            #expect(received.map(\.1.workerCount) == [4, 1, 0])
            #expect(received.map(\.1.budgetMilliwatts) == [10800, 4050, 2250])
            #expect(received[0].1.tokensPerSecondCap == 0)
            #expect(abs(received[1].1.tokensPerSecondCap - 16.4) < 0.001)
            #expect(received[2].1.tokensPerSecondCap == 0.5)  // paused: the floor rate
            #expect(received[0].1.contractPosition == 1)
            // Issue 13, defect 10: the RDO the policy chose travels in POWER_STATUS (object position in bits 31:28).
            #expect(received[0].1.requestDataObject >> 28 == 1)
            #expect(received[0].1.requestDataObject & 0x3FF != 0, "maximum current field")
            #expect(received[2].1.requestDataObject == 0, "no PD contract, no RDO")
            #expect(received[0].1.offeredDescriptions == ["Fixed 5V 3A", "Fixed 9V 3A", "Fixed 15V 3A"])
            #expect(received[2].1.offeredObjects.isEmpty)
            #expect(received[1].0 >= .milliseconds(300))
            #expect(received[1].0 < .milliseconds(1300))
            #expect(received[2].0 < .milliseconds(1600))
            #expect(received.map(\.1.sequence) == [1, 2, 3])
        }
        #expect(applied.withLock { $0 } == [2, 4, 1, 0])
    }
}

extension Duration {
    fileprivate func duration(to other: Duration) -> Duration { other - self }
}

@Suite("Power monitor and bMaxPower")
struct PowerMonitorMaxPowerTests {
    /// bMaxPower follows the budget (budget / 5 V in 2 mA units at USB 2.0, at most 500 mA): the
    /// daemon takes the first decision before binding the gadget and hears of each change after.
    @Test(.timeLimit(.minutes(1)))
    func maxPowerFollowsTheBudget() async throws {
        let script = try PowerScript(parsing: """
            at 0ms: static "small supply" 1.5W
            at 150ms: static "same supply" 1.5W
            at 300ms: static "smaller supply" 1W
            at 450ms: source "45W charger" fixed 5V 3A, fixed 9V 3A, fixed 15V 3A
            """)
        let controller = PowerController(initial: PowerController.unmanagedStatus(workerCount: 2)) { _ in }
        var monitor = PowerMonitor(
            source: ScriptedPowerSource(script: script), policy: PowerPolicy(profile: .raspberryPi5), controller: controller,
            logger: Logger(label: "test"))
        let first = try #require(await monitor.firstDecision(timeout: .seconds(5)))
        #expect(first.budgetMilliwatts == 1500)
        #expect(first.maxPower.milliamps == 300)

        let seen = Mutex<[UInt32]>([])
        monitor.maxPowerChanged = { milliamps in seen.withLock { $0.append(milliamps) } }
        // run() stays up after the script's last event (until graceful shutdown): cancel it then.
        let running = Task { [monitor] in try await monitor.run() }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        while seen.withLock({ $0.count }) < 3 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(200))
        running.cancel()
        // One call per change (the repeated 1.5 W is not one); the 45 W charger is capped at 500 mA.
        #expect(seen.withLock { $0 } == [300, 200, 500])
    }

    @Test func noSnapshotWithinTheTimeoutGivesNil() async throws {
        let script = try PowerScript(parsing: "at 10s: static \"late\" 5W")
        let controller = PowerController(initial: PowerController.unmanagedStatus(workerCount: 2)) { _ in }
        let monitor = PowerMonitor(
            source: ScriptedPowerSource(script: script), policy: PowerPolicy(profile: .raspberryPi5), controller: controller,
            logger: Logger(label: "test"))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await monitor.firstDecision(timeout: .milliseconds(200)) == nil)
        #expect(start.duration(to: clock.now) < .seconds(5))
    }
}
