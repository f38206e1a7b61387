import CartridgeDaemon
import CartridgeTestSupport
import CartridgeWire
import Testing

/// CartridgeServer run in-process (not as a spawned daemon): graceful shutdown and BUSY.
@Suite("CartridgeServer in-process", .timeLimit(.minutes(1)))
struct InProcessServerTests {
    @Test func gracefulShutdownEndsStreamsWithDoneShutdownAndRunReturns() async throws {
        let server = try InProcessServer()
        var connection = try await server.connect()
        try await connection.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 1_000_000).frame(requestID: 3))
        #expect(try await connection.next().type == .token)
        async let stopped: Void = server.stop()
        let frames = try await connection.frames(of: 3)
        let done = try #require(frames.last)
        #expect(done.type == .done)
        #expect(try GenerationSummary(payload: done.payload).stopReason == .shutdown)
        try await stopped
        await #expect(throws: (any Error).self) { try await connection.next() }
    }

    @Test func generationsBeyondTheDeviceSlotsAreBusy() async throws {
        let server = try InProcessServer(configuration: ServerConfiguration(maximumConcurrentGenerations: 1))
        var first = try await server.connect()
        var second = try await server.connect()
        try await first.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 1_000_000).frame(requestID: 3))
        #expect(try await first.next().type == .token)
        try await second.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 4).frame(requestID: 4))
        let refusal = try #require(try await second.frames(of: 4).last)
        #expect(try ErrorReply(payload: refusal.payload).code == .busy)
        try await first.send(CancelRequest().frame(requestID: 3))
        #expect(try GenerationSummary(payload: try #require(try await first.frames(of: 3).last).payload).stopReason == .cancelled)
        first.close()
        second.close()
        try await server.stop()
    }
}
