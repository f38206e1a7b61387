import CartridgeClient
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Foundation
import Testing

/// cartridged as a separate process, the client library over a Unix socket: the whole stack.
@Suite("cartridged end to end over a Unix socket", .serialized, .timeLimit(.minutes(3)))
struct DaemonEndToEndTests {
    @Test func helloInfoAndGenerate() async throws {
        let daemon = try await RunningDaemon()
        let cartridge = try await daemon.connect()
        #expect(cartridge.hello.version == 1)
        #expect(cartridge.hello.capabilities.contains(.generate))
        #expect(cartridge.hello.imageDigest.count == 32)
        let card = try await cartridge.info()
        #expect(card.family == "llama")
        #expect(card.vocabularySize == UInt32(TinyCheckpoint.vocabulary))
        #expect(card.contextLength == UInt32(TinyCheckpoint.contextLength))

        var indices: [UInt32] = []
        var summary: GenerationSummary?
        for try await event in try await cartridge.generate(GenerateRequest(prompt: .text("Once upon a time"), maximumTokens: 24)) {
            switch event {
            case .token(let token): indices.append(token.index)
            case .done(let done): summary = done
            case .promptToken: break
            }
        }
        #expect(indices == Array(0..<24))
        let done = try #require(summary)
        #expect(done.stopReason == .maximumTokens)
        #expect(done.generatedTokens == 24)
        #expect(done.promptTokens >= 2)
        #expect(done.tokensPerSecond > 0)
        #expect(done.timeToFirstTokenMicroseconds > 0 && done.timeToFirstTokenMicroseconds <= done.totalMicroseconds)

        // Greedy decoding is deterministic: the same request gives the same tokens.
        let first = try await cartridge.generate(GenerateRequest(prompt: .tokens([1, 300, 301]), maximumTokens: 16)).collect()
        let second = try await cartridge.generate(GenerateRequest(prompt: .tokens([1, 300, 301]), maximumTokens: 16)).collect()
        #expect(first.tokens == second.tokens)
        #expect(first.tokens.count == 16)
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func cancelMidStreamEndsPromptlyAndTheNextRequestWorks() async throws {
        // Rate-capped at 200 tokens/s (the power throttle), so the tokens that reach the socket
        // while CANCEL travels are bounded by time, not by the machine's speed: uncapped, the tiny
        // model makes thousands of tokens per second, the socket buffers them, and a fast machine
        // wrote 110 of them during the CANCEL's round trip. 64 tokens at 200/s is 320 ms.
        let daemon = try await RunningDaemon(extraArguments: [
            "--power-source", "static:1500mW", "--power-profile", "idle=1W,worker=1W,workers=1,peak=2.5W,rate=400",
        ])
        let transport = try await daemon.rawConnection()
        var reader = RawFrameReader(transport)
        try await transport.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 100_000).frame(requestID: 7).encoded())
        for expected in 0..<3 {
            let frame = try await reader.next()
            #expect(frame.type == .token)
            #expect(try GeneratedToken(payload: frame.payload).index == UInt32(expected))
        }
        let clock = ContinuousClock()
        let cancelledAt = clock.now
        try await transport.send(CancelRequest().frame(requestID: 7).encoded())
        var tokensAfterCancel = 0
        var done: GenerationSummary?
        while done == nil {
            let frame = try await reader.next()
            if frame.type == .token { tokensAfterCancel += 1 } else {
                #expect(frame.type == .done)
                done = try GenerationSummary(payload: frame.payload)
            }
        }
        #expect(done?.stopReason == .cancelled)
        print("cancel mid-stream: \(tokensAfterCancel) tokens after CANCEL, DONE after \(cancelledAt.duration(to: clock.now))")
        #expect(cancelledAt.duration(to: clock.now) < .seconds(1))
        // Frames already on the wire when CANCEL arrived, plus at most the one being computed.
        #expect(tokensAfterCancel < 64, "\(tokensAfterCancel) tokens after CANCEL")
        try await transport.send(PingPayload(bytes: [1]).frame(requestID: 8).encoded())
        #expect(try await reader.next() == Frame(type: .pong, requestID: 8, payload: [1]))
        transport.close()

        // The client library: leaving the loop early sends CANCEL; the connection stays usable.
        let cartridge = try await daemon.connect()
        var seen = 0
        for try await event in try await cartridge.generate(GenerateRequest(prompt: .tokens([1]), maximumTokens: 100_000)) {
            if case .token = event { seen += 1 }
            if seen == 5 { break }
        }
        let after = try await cartridge.generate(GenerateRequest(prompt: .tokens([1]), maximumTokens: 4)).collect()
        #expect(after.tokens.count == 4)
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    /// A long stream runs; a short one started while it runs must stream beside it (continuous
    /// batching), not wait for it: it ends while the long one is still running. The check does
    /// not depend on how fast or loaded this machine is: the short request is sent only after the
    /// long one's first token, and a one-at-a-time daemon would send all 3,000 tokens of the long
    /// stream before the short one's first. (How the frames interleave on the socket depends on
    /// when each stream's consumer task runs: under CPU contention a stream whose consumer is
    /// late pauses at the scheduler's lookahead, so the order is printed, not asserted; the
    /// scheduler's own tests check that every step runs every stream.)
    @Test func twoConcurrentStreamsInterleave() async throws {
        let daemon = try await RunningDaemon()
        let transport = try await daemon.rawConnection()
        var reader = RawFrameReader(transport)
        try await transport.send(GenerateRequest(prompt: .tokens([1, 42]), maximumTokens: 3000).frame(requestID: 10).encoded())
        var order: [UInt32] = []
        var tokens: [UInt32: [UInt32]] = [10: [], 11: []]
        var done: [UInt32: GenerationSummary] = [:]
        var sentShort = false
        while done.count < 2 {
            let frame = try await reader.next()
            if frame.type == .token {
                order.append(frame.requestID)
                tokens[frame.requestID, default: []].append(try GeneratedToken(payload: frame.payload).tokenID)
                if !sentShort {
                    sentShort = true
                    try await transport.send(GenerateRequest(prompt: .tokens([1, 42]), maximumTokens: 40).frame(requestID: 11).encoded())
                }
            } else {
                #expect(frame.type == .done)
                done[frame.requestID] = try GenerationSummary(payload: frame.payload)
                if frame.requestID == 11 && done[10] == nil {
                    try await transport.send(CancelRequest().frame(requestID: 10).encoded())
                }
            }
        }
        #expect(tokens[11]?.count == 40 && done[UInt32(11)]?.stopReason == .maximumTokens)
        #expect(done[UInt32(10)]?.stopReason == .cancelled, "the long stream ended before the short one: \(String(describing: done[UInt32(10)]))")
        let long = tokens[10] ?? [], short = tokens[11] ?? []
        let common = min(long.count, short.count)
        #expect(common > 0 && long.prefix(common) == short.prefix(common), "same prompt, greedy: same tokens: \(long.prefix(common)) vs \(short.prefix(common))")
        let firstShort = try #require(order.firstIndex(of: 11))
        let lastShort = try #require(order.lastIndex(of: 11))
        let window = order[firstShort...lastShort]
        print("two streams: \(zip(window, window.dropFirst()).filter { $0 != $1 }.count) switches among the short stream's \(short.count) tokens; the long one sent \(long.count)")
        transport.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func aClientKilledMidStreamDoesNotHurtTheDaemon() async throws {
        let daemon = try await RunningDaemon()
        for _ in 0..<2 {
            let client = try ChildProcess(
                "cartridge", ["generate", "--connect", "unix:\(daemon.socketPath)", "--tokens", "1", "--max-tokens", "100000", "--ids"])
            // Let it stream a little, then kill it without warning.
            try await Task.sleep(for: .milliseconds(300))
            client.signal(SIGKILL)
            await client.wait()
        }
        #expect(daemon.process.isRunning)
        // The killed clients' generation slots are released (once the daemon has noticed the
        // hang-ups, within a token or two): four concurrent generations fit again.
        let cartridge = try await daemon.connect()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        var results: [Int] = []
        while results != [8, 8, 8, 8] && clock.now < deadline {
            do {
                results = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await cartridge.generate(GenerateRequest(prompt: .tokens([1]), maximumTokens: 8)).collect().tokens.count
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            } catch let error as CartridgeClientError where error.deviceCode == .busy {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(results == [8, 8, 8, 8])
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func garbageAndHostileFramesNeverCrashTheDaemon() async throws {
        let daemon = try await RunningDaemon()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let transport = try await daemon.rawConnection()
            var bytes = (0..<Int.random(in: 1...4096, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0 {
                // A valid header with a hostile length or type, then garbage.
                bytes = Frame(type: FrameType(UInt8(round * 13 % 256)), requestID: UInt32(round), payload: []).encoded() + bytes
            }
            try await transport.send(bytes)
            transport.close()
        }
        #expect(daemon.process.isRunning)
        let cartridge = try await daemon.connect()
        #expect(try await cartridge.ping([9, 9]) == [9, 9])
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    @Test func sigtermEndsStreamsWithShutdownAndExitsCleanly() async throws {
        let daemon = try await RunningDaemon()
        let transport = try await daemon.rawConnection()
        var reader = RawFrameReader(transport)
        try await transport.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 100_000).frame(requestID: 3).encoded())
        _ = try await reader.next()
        daemon.process.signal(SIGTERM)
        var last: Frame
        repeat { last = try await reader.next() } while last.type == .token
        #expect(last.type == .done)
        #expect(try GenerationSummary(payload: last.payload).stopReason == .shutdown)
        #expect(await daemon.process.wait(timeout: .seconds(10)) == 0)
        transport.close()
    }

    @Test func theIndependentPythonClientInteroperates() async throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("skipping: no python3 to run scripts/protocol-client.py")
            return
        }
        let daemon = try await RunningDaemon()
        let script = ScriptPath.repository + "/scripts/protocol-client.py"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, daemon.socketPath, "1,300", "6"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("hello version=1"))
        #expect(text.contains("family=llama"))
        #expect(text.contains("pong ok"))
        #expect(text.contains("done stop_reason=0 generated=6"))
        // Same tokens as the Swift client.
        let cartridge = try await daemon.connect()
        let swiftTokens = try await cartridge.generate(GenerateRequest(prompt: .tokens([1, 300]), maximumTokens: 6)).collect().tokens
        #expect(text.contains("tokens " + swiftTokens.map(String.init).joined(separator: ",")))
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }
}

enum ScriptPath {
    static let repository: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()
}
