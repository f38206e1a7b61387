import CartridgeConformance
import CartridgeWire
import Testing

@Suite("Conformance script parser")
struct ScriptParserTests {
    @Test(arguments: ScriptDirectory.all)
    func everyShippedScriptParses(_ name: String) throws {
        let script = try ConformanceScript(text: ScriptDirectory.read(name), file: name, variables: ScriptDirectory.variables)
        #expect(!script.steps.isEmpty)
        #expect(script.name != name, "\(name) needs a '# name:' line")
    }

    @Test func headerLinesSetNameAndRequirements() throws {
        let script = try ConformanceScript(
            text: "# name: demo\n# requires: generate sessions\n# without: embed\nconnect\n", file: "x.cts", variables: [:])
        #expect(script.name == "demo")
        #expect(script.requires == [.generate, .sessions])
        #expect(script.without == [.embed])
        #expect(script.steps.count == 1)
    }

    @Test(arguments: [
        ("bogus\n", "x.cts:1", "unknown command"),
        ("connect\nsend NOPE id=1\n", "x.cts:2", "unknown message type"),
        ("send PING size=$nothing\n", "x.cts:1", "unknown variable"),
        ("repeat 2\nconnect\n", "x.cts:2", "missing 'end'"),
        ("end\n", "x.cts:1", "without a block"),
        ("send TEXT text=\"open\n", "x.cts:1", "unterminated"),
        ("wait soon\n", "x.cts:1", "duration"),
        ("together\nwait 1s\nend\n", "x.cts:2", "only send lines"),
        ("# requires: telepathy\n", "x.cts:1", "unknown capability"),
    ])
    func badScriptsNameTheLine(_ text: String, _ location: String, _ message: String) {
        do {
            _ = try ConformanceScript(text: text, file: "x.cts", variables: [:])
            Issue.record("'\(text)' must not parse")
        } catch {
            #expect(error.scriptLocation == location)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func sendBuildsTheDocumentedFrame() throws {
        let script = try ConformanceScript(
            text: "send GENERATE id=5 prompt=\"Once\" max_tokens=64 seed=42 stop=\"\\n\"\n", file: "x.cts", variables: [:])
        guard case .send(let bytes, nil) = script.steps.first?.step else {
            Issue.record("expected a send step")
            return
        }
        let expected = GenerateRequest(prompt: .text("Once"), maximumTokens: 64, seed: 42, stopSequences: ["\n"]).frame(requestID: 5)
        #expect(bytes == expected.encoded())
    }

    @Test func variablesAndRepeatedTokens() throws {
        let script = try ConformanceScript(
            text: "send GENERATE id=1 tokens=1*3,7 max_tokens=$max_payload+1\n", file: "x.cts", variables: ["max_payload": 10])
        guard case .send(let bytes, _) = script.steps.first?.step else {
            Issue.record("expected a send step")
            return
        }
        var decoder = FrameDecoder(maximumPayloadLength: 1024)
        decoder.append(bytes)
        guard case .frame(let frame) = decoder.next() else {
            Issue.record("not a frame")
            return
        }
        let request = try GenerateRequest(payload: frame.payload)
        #expect(request.prompt == .tokens([1, 1, 1, 7]))
        #expect(request.maximumTokens == 11)
    }
}
