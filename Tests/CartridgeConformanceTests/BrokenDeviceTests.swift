import CartridgeConformance
import CartridgeTransport
import CartridgeWire
import Synchronization
import Testing

/// A minimal device built on the real `DeviceSession`, serving INFO and POWER only, with an
/// optional deliberate defect. It shows that the runner passes a correct device and catches a
/// broken one.
final class ScriptedDevice: Sendable {
    /// Rewrites the error code of every ERROR frame whose code is `from`.
    let defect: (from: ErrorCode, to: ErrorCode)?
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(defect: (from: ErrorCode, to: ErrorCode)? = nil) { self.defect = defect }

    func connect() -> any CartridgeTransport {
        let (host, device) = InMemoryTransport.makePair()
        let task = Task { await self.serve(device) }
        tasks.withLock { $0.append(task) }
        return host
    }

    private func serve(_ transport: InMemoryTransport) async {
        var session = DeviceSession(limits: .standard, capabilities: [.power], deviceName: "scripted", imageDigest: [UInt8](repeating: 7, count: 32))
        let card = ModelCard(
            name: "scripted", family: "none", architecture: "none", parameterCount: 1, quantization: "none", contextLength: 8,
            vocabularySize: 8, tokenizer: "none", imageDigest: [UInt8](repeating: 7, count: 32), licence: "MIT",
            publisher: "tests", embeddingDimension: 0)
        while true {
            guard let bytes = try? await transport.receive(maximumCount: 65536), !bytes.isEmpty else { return }
            session.receive(bytes)
            while let action = session.nextAction() {
                var reply: Frame?
                switch action {
                case .send(let frame): reply = frame
                case .cancel: break
                case .start(let id, let request):
                    session.finish(requestID: id)
                    switch request {
                    case .info: reply = card.frame(requestID: id)
                    case .power: reply = PowerStatusFixture.status.frame(requestID: id)
                    default: reply = ErrorReply(.unsupported, "not here").frame(requestID: id)
                    }
                }
                guard var frame = reply else { continue }
                if let defect, frame.type == .error, let error = try? ErrorReply(payload: frame.payload), error.code == defect.from {
                    frame = ErrorReply(defect.to, error.message).frame(requestID: frame.requestID)
                }
                try? await transport.send(frame.encoded())
            }
        }
    }
}

enum PowerStatusFixture {
    static let status = PowerStatus(
        sequence: 0, source: "static", state: "test", offeredObjects: [], offeredDescriptions: [], contractPosition: 0,
        contractMillivolts: 5000, contractMilliamps: 500, budgetMilliwatts: 2500, workerCount: 1, tokensPerSecondCap: 0,
        estimatedDrawMilliwatts: 1000, maxPowerMilliamps: 500)
}

@Suite("Conformance runner against a scripted device", .timeLimit(.minutes(1)))
struct BrokenDeviceTests {
    static let scripts = ["01-handshake.cts", "07-limits.cts", "08-framing.cts"]

    func run(_ device: ScriptedDevice, scripts: [String]) async throws -> (ConformanceRunner.Outcome, [String]) {
        let lines = Mutex<[String]>([])
        let runner = ConformanceRunner(timeout: .seconds(2), report: { line in lines.withLock { $0.append(line) } }) {
            device.connect()
        }
        let probe = try await runner.probe()
        var total = ConformanceRunner.Outcome()
        for name in scripts {
            let script = try ConformanceScript(text: ScriptDirectory.read(name), file: name, variables: probe.variables)
            let outcome = await runner.run(script, capabilities: probe.capabilities)
            total.passed += outcome.passed
            total.failed += outcome.failed
        }
        return (total, lines.withLock { $0 })
    }

    @Test func aCorrectDevicePasses() async throws {
        let (outcome, lines) = try await run(ScriptedDevice(), scripts: Self.scripts)
        #expect(outcome.failed == 0, "\(lines.filter { $0.hasPrefix("FAIL") || $0.hasPrefix("      ->") })")
        #expect(outcome.passed > 50)
    }

    @Test func aWrongErrorCodeFailsTheRun() async throws {
        let device = ScriptedDevice(defect: (from: .unknownType, to: .malformedPayload))
        let (outcome, lines) = try await run(device, scripts: Self.scripts)
        #expect(outcome.failed == 1)
        let failure = lines.first { $0.hasPrefix("FAIL") } ?? ""
        #expect(failure.contains("08-framing.cts") && failure.contains("0x42"), "\(failure)")
        #expect(lines.contains { $0.contains("expected UNKNOWN_TYPE, got MALFORMED_PAYLOAD") })
    }

    @Test func aDeviceThatForgetsToEchoFails() async throws {
        // Wrong behaviour in another place: garbage is not reported.
        let device = ScriptedDevice(defect: (from: .malformedFrame, to: .internalError))
        let (outcome, _) = try await run(device, scripts: ["08-framing.cts"])
        #expect(outcome.failed == 1)
    }
}
