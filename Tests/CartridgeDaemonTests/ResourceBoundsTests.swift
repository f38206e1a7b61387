import CartridgeDaemon
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Logging
import Testing

/// Issue 13, defects 4, 5 and 6: the daemon holds its resources against hosts that flood it,
/// never read, never say HELLO, or cancel long work.
@Suite("Bounded resources", .timeLimit(.minutes(2)))
struct ResourceBoundsTests {
    /// Defect 6: a host that stops reading loses its stream (DONE(stalled)) and its generation
    /// slot within the stall timeout, so other hosts are not refused with BUSY for ever.
    @Test func aHostThatStopsReadingGivesItsGenerationSlotBack() async throws {
        var configuration = ServerConfiguration(maximumConcurrentGenerations: 1)
        configuration.streamStallTimeout = .milliseconds(400)
        let server = try InProcessServer(configuration: configuration, capacity: 2048)
        var sleeper = try await server.connect()
        try await sleeper.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 1_000_000).frame(requestID: 5))
        // Its first token shows it holds the one slot: without this wait the other host's request
        // could be admitted first (seen in CI: the sleeper then got ERROR(BUSY) at once).
        let first = try await sleeper.next()
        #expect(first.type == .token && first.requestID == 5, "\(first)")
        // The sleeper reads nothing more. Another host gets the slot once the stall is noticed.
        var other = try await server.connect()
        let clock = ContinuousClock()
        let start = clock.now
        var served = false
        var id: UInt32 = 10
        while !served && start.duration(to: clock.now) < .seconds(20) {
            try await other.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 2).frame(requestID: id))
            let last = try #require(try await other.frames(of: id).last)
            if last.type == .done { served = true } else {
                #expect(try ErrorReply(payload: last.payload).code == .busy)
                try await Task.sleep(for: .milliseconds(100))
            }
            id += 1
        }
        #expect(served, "the slot was never given back")
        #expect(start.duration(to: clock.now) < .seconds(5))
        // When the sleeper reads again, its stream ends with DONE(stalled).
        let frames = try await sleeper.frames(of: 5)
        let done = try #require(frames.last)
        #expect(done.type == .done)
        #expect(try GenerationSummary(payload: done.payload).stopReason == .stalled)
        sleeper.close()
        other.close()
        try await server.stop()
    }

    /// Defect 4: EMBED checks for CANCEL between chunks and ends with DONE(cancelled).
    @Test func aCancelledEmbedEndsEarlyWithDone() async throws {
        let directory = try TemporaryDirectory("embed-cancel")
        let modelDirectory = try TinyBertModel.write(into: directory)
        let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let model = try ServedModelLoader.loadEmbeddingModel(directory: modelDirectory, logger: logger)
        let server = try InProcessServer(model: model)
        var connection = try await server.connect()
        let sentences = (0..<256).map { "sentence number \($0) about a cat on a mat" }
        // EMBED and CANCEL in one write: the CANCEL is seen before the first chunk is done.
        try await connection.transport.send(
            EmbedRequest(sentences: sentences).frame(requestID: 4).encoded() + CancelRequest().frame(requestID: 4).encoded())
        let frames = try await connection.frames(of: 4)
        #expect(frames.map(\.type) == [.done])
        #expect(try GenerationSummary(payload: try #require(frames.last).payload).stopReason == .cancelled)
        // Not cancelled: the whole batch, in order.
        try await connection.send(EmbedRequest(sentences: Array(sentences.prefix(20))).frame(requestID: 5))
        let reply = try #require(try await connection.frames(of: 5).last)
        #expect(reply.type == .embeddings)
        let whole = try EmbeddingsReply(payload: reply.payload)
        #expect(whole.vectors.count == 20)
        try await connection.send(EmbedRequest(sentences: [sentences[13]]).frame(requestID: 6))
        let single = try EmbeddingsReply(payload: try #require(try await connection.frames(of: 6).last).payload)
        #expect(single.vectors[0] == whole.vectors[13], "chunking must not change a sentence's vector")
        connection.close()
        try await server.stop()
    }

    /// Defect 4: concurrent EMBED work is bounded device-wide.
    @Test func embedBeyondTheDeviceLimitIsBusy() async throws {
        let directory = try TemporaryDirectory("embed-busy")
        let modelDirectory = try TinyBertModel.write(into: directory)
        let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let model = try ServedModelLoader.loadEmbeddingModel(directory: modelDirectory, logger: logger)
        let server = try InProcessServer(configuration: ServerConfiguration(maximumConcurrentEmbeds: 0), model: model)
        var connection = try await server.connect()
        try await connection.send(EmbedRequest(sentences: ["a cat"]).frame(requestID: 4))
        let reply = try #require(try await connection.frames(of: 4).last)
        #expect(try ErrorReply(payload: reply.payload).code == .busy)
        connection.close()
        try await server.stop()
    }

    /// Defect 5: connections past the cap get ERROR(BUSY) with id 0 and are closed.
    @Test func connectionsPastTheCapAreRefusedClearly() async throws {
        let server = try InProcessServer(configuration: ServerConfiguration(maximumConnections: 2))
        var first = try await server.connect()
        var second = try await server.connect()
        var third = RawConnection(server.listener.connect())
        let refusal = try await third.next()
        #expect(refusal.type == .error && refusal.requestID == 0)
        let error = try ErrorReply(payload: refusal.payload)
        #expect(error.code == .busy)
        #expect(error.message.contains("2 connections"))
        await #expect(throws: (any Error).self) { try await third.next() }
        // The admitted ones still work; closing one makes room.
        try await first.send(PingPayload(bytes: [1]).frame(requestID: 3))
        #expect(try await first.next() == Frame(type: .pong, requestID: 3, payload: [1]))
        second.close()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        var admitted = false
        while !admitted && clock.now < deadline {
            var fourth = RawConnection(server.listener.connect())
            try await fourth.send(PingPayload(bytes: [2]).frame(requestID: 4))
            admitted = (try? await fourth.next())?.type == .pong
            fourth.close()
            if !admitted { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(admitted)
        _ = try? await second.next()
        first.close()
        try await server.stop()
    }

    /// Defect 5: a connection that never completes HELLO is closed after the handshake timeout;
    /// one that did stays open.
    @Test func connectionsWithoutHelloAreClosedAfterTheTimeout() async throws {
        var configuration = ServerConfiguration()
        configuration.handshakeTimeout = .milliseconds(300)
        let server = try InProcessServer(configuration: configuration)
        var idle = RawConnection(server.listener.connect())
        var ready = try await server.connect()
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: (any Error).self) { try await idle.next() }
        #expect(start.duration(to: clock.now) < .seconds(3))
        try await ready.send(PingPayload(bytes: [9]).frame(requestID: 2))
        #expect(try await ready.next() == Frame(type: .pong, requestID: 2, payload: [9]))
        ready.close()
        try await server.stop()
    }
}
