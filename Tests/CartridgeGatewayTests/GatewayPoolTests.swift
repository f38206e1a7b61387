import CartridgeClient
import CartridgeGateway
import CartridgeTestSupport
import CartridgeWire
import Foundation
import Synchronization
import Testing

/// The pool over real cartridged processes: load sharing, a daemon killed mid-stream, BUSY
/// daemons, a full queue, and clients that go away.
@Suite("gateway pool", .serialized, .timeLimit(.minutes(3)))
struct GatewayPoolTests {
    /// A daemon serving the tiny checkpoint, rate-capped through its power policy to about
    /// `tokensPerSecond` (a fixed 1.5 W budget on a board whose one worker needs 1 W above 1 W idle).
    static func slowDaemon(tokensPerSecond: Int, extra: [String] = []) async throws -> RunningDaemon {
        try await RunningDaemon(extraArguments: [
            "--power-source", "static:1500mW", "--power-profile", "idle=1W,worker=1W,workers=1,peak=2.5W,rate=\(tokensPerSecond * 2)",
        ] + extra)
    }

    static func modelName(_ gateway: GatewayHarness) async throws -> String {
        let data = try #require(try await gateway.get("/v1/models").json?["data"] as? [[String: Any]])
        return try #require(data.first?["id"] as? String)
    }

    @Test func twoDaemonsWithTheSameModelShareTwentyConcurrentRequests() async throws {
        // Rate-capped (48 tokens take about 0.25 s), so the twenty requests overlap whatever the
        // machine's load: uncapped, the tiny model answers in a few milliseconds, a loaded test
        // machine can hand the gateway the requests one after another, and the least busy
        // daemon is then whichever finished last (seen: 16 / 4).
        let first = try await Self.slowDaemon(tokensPerSecond: 200)
        let second = try await Self.slowDaemon(tokensPerSecond: 200)
        var configuration = GatewayConfiguration()
        configuration.cartridges = [first.uri, second.uri]
        try await GatewayHarness.run(configuration, expectedCartridges: 2) { gateway in
            let model = try await Self.modelName(gateway)
            let models = try #require(try await gateway.get("/v1/models").json?["data"] as? [[String: Any]])
            #expect(models.count == 1, "same digest: one model entry")
            #expect(models.first?["cartridges"] as? Int == 2)
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await gateway.post(
                            "/v1/completions", json: ["model": model, "prompt": [1, 300 + index], "max_tokens": 48, "temperature": 0])
                        return (reply.status, choiceText(reply.json))
                    }
                }
                var results: [(Int, String?)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(statuses.count == 20)
            #expect(statuses.allSatisfy { $0.0 == 200 && $0.1 != nil }, "\(statuses)")
            let onFirst = try await gateway.metric("cartridge_gateway_cartridge_requests_total", containing: first.socketPath) ?? 0
            let onSecond = try await gateway.metric("cartridge_gateway_cartridge_requests_total", containing: second.socketPath) ?? 0
            print("gateway pool: 20 concurrent requests spread \(onFirst) / \(onSecond)")
            #expect(onFirst + onSecond == 20)
            #expect(onFirst >= 5 && onSecond >= 5, "load spread \(onFirst) / \(onSecond)")
        }
        _ = await first.stop()
        _ = await second.stop()
    }

    @Test func aDaemonKilledMidStreamEndsTheStreamWithAnErrorAndTheNextRequestGoesToTheOther() async throws {
        let first = try await Self.slowDaemon(tokensPerSecond: 40)
        let second = try await Self.slowDaemon(tokensPerSecond: 40)
        var configuration = GatewayConfiguration()
        configuration.cartridges = [first.uri, second.uri]
        try await GatewayHarness.run(configuration, expectedCartridges: 2) { gateway in
            let model = try await Self.modelName(gateway)
            let events = Mutex<[String]>([])
            let killed = Mutex<String?>(nil)
            let clock = ContinuousClock()
            var killedAt: ContinuousClock.Instant?
            let status = try await gateway.stream(
                "/v1/completions", json: ["model": model, "prompt": [1, 42], "max_tokens": 400, "temperature": 0, "stream": true]
            ) { event in
                let count = events.withLock { events in
                    events.append(event)
                    return events.count
                }
                if count == 3 {
                    // Kill whichever daemon serves this stream.
                    let busyFirst = try await gateway.metric("cartridge_gateway_in_flight", containing: first.socketPath) ?? 0
                    let victim = busyFirst > 0 ? first : second
                    victim.process.signal(SIGKILL)
                    killed.withLock { $0 = victim.socketPath }
                    killedAt = clock.now
                }
                return event != "[DONE]"
            }
            #expect(status == 200)
            let received = events.withLock { $0 }
            let victimPath = try #require(killed.withLock { $0 })
            #expect(received.last != "[DONE]", "the stream must not claim success")
            let last = try #require(received.last.flatMap(eventJSON))
            let error = try #require(last["error"] as? [String: Any], "last event: \(received.last ?? "")")
            #expect(error["code"] as? String == "cartridge_unavailable")
            #expect(try #require(killedAt).duration(to: clock.now) < .seconds(5), "the stream ended promptly")
            // The next request is served by the survivor; the dead one has left the pool.
            let next = try await gateway.post("/v1/completions", json: ["model": model, "prompt": [1, 42], "max_tokens": 4, "temperature": 0])
            #expect(next.status == 200, "\(next.text)")
            try await gateway.waitForCartridges(1)
            let health = try #require(try await gateway.get("/health").json)
            #expect(health["cartridges"] as? Int == 1)
            let survivor = victimPath == first.socketPath ? second.socketPath : first.socketPath
            #expect(try await gateway.metric("cartridge_gateway_cartridge_requests_total", containing: survivor) ?? 0 >= 1)
        }
        _ = await first.stop()
        _ = await second.stop()
    }

    @Test func aBusyDaemonMakesTheRequestWaitNotFail() async throws {
        // One generation at a time; a direct client holds it for about 1.5 s.
        let daemon = try await Self.slowDaemon(tokensPerSecond: 20, extra: ["--max-generations", "1"])
        var configuration = GatewayConfiguration()
        configuration.cartridges = [daemon.uri]
        try await GatewayHarness.run(configuration, expectedCartridges: 1) { gateway in
            let model = try await Self.modelName(gateway)
            let direct = try await daemon.connect()
            var iterator = try await direct.generate(GenerateRequest(prompt: .tokens([1, 7]), maximumTokens: 30)).makeAsyncIterator()
            _ = try await iterator.next()  // the daemon's only slot is taken
            let clock = ContinuousClock()
            let started = clock.now
            async let reply = gateway.post("/v1/completions", json: ["model": model, "prompt": [1, 9], "max_tokens": 3, "temperature": 0])
            var directTokens = 1
            while let event = try await iterator.next() {
                if case .token = event { directTokens += 1 }
            }
            let answer = try await reply
            #expect(answer.status == 200, "\(answer.text)")
            #expect(directTokens == 30, "the direct client's generation was not disturbed")
            #expect(started.duration(to: clock.now) > .milliseconds(800), "the gateway request waited for the slot")
            direct.close()
        }
        _ = await daemon.stop()
    }

    @Test func aFullQueueAnswers429WithRetryAfter() async throws {
        let daemon = try await Self.slowDaemon(tokensPerSecond: 40)
        var configuration = GatewayConfiguration()
        configuration.cartridges = [daemon.uri]
        configuration.requestsPerCartridge = 1
        configuration.queueLimit = 1
        try await GatewayHarness.run(configuration, expectedCartridges: 1) { gateway in
            let model = try await Self.modelName(gateway)
            let holderStarted = AsyncStream.makeStream(of: Void.self)
            async let holder = gateway.stream(
                "/v1/completions", json: ["model": model, "prompt": [1, 5], "max_tokens": 80, "temperature": 0, "stream": true]
            ) { event in
                holderStarted.continuation.yield()
                return event != "[DONE]"
            }
            var started = holderStarted.stream.makeAsyncIterator()
            _ = await started.next()
            async let queued = gateway.post("/v1/completions", json: ["model": model, "prompt": [1, 6], "max_tokens": 2, "temperature": 0])
            let deadline = ContinuousClock.now + .seconds(10)
            while try await gateway.metric("cartridge_gateway_queue_depth") ?? 0 < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let refused = try await gateway.post("/v1/completions", json: ["model": model, "prompt": [1, 7], "max_tokens": 2])
            #expect(refused.status == 429)
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.error?["code"] as? String == "queue_full")
            #expect(refused.error?["type"] as? String == "rate_limit_error")
            #expect(try await holder == 200)
            let queuedReply = try await queued
            #expect(queuedReply.status == 200, "\(queuedReply.text)")
            #expect(try await gateway.metric("cartridge_gateway_queue_rejections_total") == 1)
        }
        _ = await daemon.stop()
    }

    /// Waits until the daemon (one generation slot) accepts a generation again: the gateway's
    /// CANCEL freed it. Returns how long that took.
    static func slotFreed(_ daemon: RunningDaemon, within limit: Duration) async throws -> Duration? {
        let clock = ContinuousClock()
        let started = clock.now
        let direct = try await daemon.connect()
        defer { direct.close() }
        while started.duration(to: clock.now) < limit {
            do {
                _ = try await direct.generate(GenerateRequest(prompt: .tokens([1]), maximumTokens: 1)).collect()
                return started.duration(to: clock.now)
            } catch let error as CartridgeClientError where error.deviceCode == .busy {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        return nil
    }

    @Test func aClientThatDisconnectsCancelsItsGeneration() async throws {
        let daemon = try await Self.slowDaemon(tokensPerSecond: 20, extra: ["--max-generations", "1"])
        var configuration = GatewayConfiguration()
        configuration.cartridges = [daemon.uri]
        try await GatewayHarness.run(configuration, expectedCartridges: 1) { gateway in
            let model = try await Self.modelName(gateway)
            // Streamed: stop reading after two events (the HTTP client closes the connection).
            var seen = 0
            _ = try await gateway.stream(
                "/v1/completions", json: ["model": model, "prompt": [1, 5], "max_tokens": 1000, "temperature": 0, "stream": true]
            ) { _ in
                seen += 1
                return seen < 2
            }
            let streamed = try await Self.slotFreed(daemon, within: .seconds(5))
            #expect(streamed != nil, "the streamed generation was not cancelled")

            // Not streamed: the client closes its socket while the completion is generated.
            let socket = try RawHTTPConnection(port: gateway.port)
            let body = #"{"model":"\#(model)","prompt":[1,6],"max_tokens":1000,"temperature":0}"#
            try socket.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let deadline = ContinuousClock.now + .seconds(5)
            while try await gateway.metric("cartridge_gateway_in_flight", containing: daemon.socketPath) ?? 0 < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            socket.close()
            let whole = try await Self.slotFreed(daemon, within: .seconds(5))
            #expect(whole != nil, "the non-streamed generation was not cancelled")
        }
        _ = await daemon.stop()
    }
}

/// A plain TCP connection to the gateway, for a client that sends a request and hangs up.
final class RawHTTPConnection {
    private var descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw DaemonFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw DaemonFailure("connect() to port \(port) failed")
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw DaemonFailure("send() failed") }
            offset += written
        }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }
}
