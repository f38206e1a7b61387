import CartridgeConformance
import CartridgeInference
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Synchronization
import Testing

/// The whole shipped suite against a real cartridged over a Unix socket.
@Suite("Conformance suite against cartridged", .timeLimit(.minutes(5)))
struct DaemonConformanceTests {
    @Test func theShippedSuitePasses() async throws {
        let daemon = try await RunningDaemon()
        let lines = Mutex<[String]>([])
        let path = daemon.socketPath
        let runner = ConformanceRunner(timeout: .seconds(20), report: { line in lines.withLock { $0.append(line) } }) {
            try await UnixSocketTransport.connect(path: path)
        }
        let probe = try await runner.probe()
        var total = ConformanceRunner.Outcome()
        for name in ScriptDirectory.all {
            let script = try ConformanceScript(text: ScriptDirectory.read(name), file: name, variables: probe.variables)
            let outcome = await runner.run(script, capabilities: probe.capabilities)
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.skippedScripts += outcome.skippedScripts
        }
        let report = lines.withLock { $0 }
        let failures = report.enumerated().filter { $0.element.hasPrefix("FAIL") }.map { report[$0.offset...min($0.offset + 1, report.count - 1)].joined(separator: "\n") }
        #expect(total.failed == 0, "\(failures.joined(separator: "\n"))")
        #expect(total.passed > 150)
        // The tiny llama2.c cartridge cannot EMBED and has no chat template: exactly the EMBED script,
        // the encoder-only one and the CHAT one are skipped.
        #expect(total.skippedScripts == 3, "\(report.filter { $0.hasPrefix("SKIP") })")
        #expect(daemon.process.isRunning)
        #expect(await daemon.stop() == 0)
    }

    /// The same suite against the chat cartridge (the synthetic GGUF with its ChatML template).
    @Test func theShippedSuitePassesOnAChatCartridge() async throws {
        let directory = try TemporaryDirectory("conformance-chat")
        let gguf = try directory.write(try SyntheticGGUFModel.fileBytes(), to: "chat.gguf")
        let daemon = try await RunningDaemon(model: (["--gguf", gguf], directory))
        let lines = Mutex<[String]>([])
        let path = daemon.socketPath
        let runner = ConformanceRunner(timeout: .seconds(20), report: { line in lines.withLock { $0.append(line) } }) {
            try await UnixSocketTransport.connect(path: path)
        }
        let probe = try await runner.probe()
        #expect(probe.capabilities.contains(.chat))
        var total = ConformanceRunner.Outcome()
        for name in ScriptDirectory.all {
            let script = try ConformanceScript(text: ScriptDirectory.read(name), file: name, variables: probe.variables)
            let outcome = await runner.run(script, capabilities: probe.capabilities)
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.skippedScripts += outcome.skippedScripts
        }
        let report = lines.withLock { $0 }
        let failures = report.enumerated().filter { $0.element.hasPrefix("FAIL") }.map { report[$0.offset...min($0.offset + 1, report.count - 1)].joined(separator: "\n") }
        #expect(total.failed == 0, "\(failures.joined(separator: "\n"))")
        // Skipped: EMBED, the encoder-only script and the one for cartridges without CHAT.
        #expect(total.skippedScripts == 3, "\(report.filter { $0.hasPrefix("SKIP") })")
        #expect(await daemon.stop() == 0)
    }
}
