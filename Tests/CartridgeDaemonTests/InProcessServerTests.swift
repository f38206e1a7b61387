import CartridgeDaemon
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Logging
import Synchronization
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

/// A listener whose `accept` always fails (a broken socket or ep0).
final class BrokenListener: CartridgeListener {
    let endpointDescription = "broken:"
    func accept() async throws(TransportError) -> (any CartridgeTransport)? {
        throw TransportError(.io, "accept: the listener is broken")
    }
    func close() {}
}

/// A listener that fails for good on its first `accept` (a USB gadget whose ep0 thread stopped),
/// counting the calls: a server that retried would call it again.
final class FailedListener: CartridgeListener {
    let endpointDescription = "failed:"
    let acceptCalls = Atomic<Int>(0)
    func accept() async throws(TransportError) -> (any CartridgeTransport)? {
        acceptCalls.add(1, ordering: .relaxed)
        throw TransportError(.listenerFailed, "the ep0 thread of usb:test stopped")
    }
    func close() {}
}

@Suite("CartridgeServer listener failures", .timeLimit(.minutes(1)))
struct ListenerFailureTests {
    /// Issue 13: a listener that keeps failing ends `run()` with its error instead of logging for ever.
    @Test func aBrokenListenerEndsTheServiceWithAnError() async throws {
        let directory = try TemporaryDirectory("broken-listener")
        let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
        let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let model = try ServedModelLoader.loadCheckpoint(path: checkpoint, tokenizerPath: nil, logger: logger)
        let server = CartridgeServer(
            model: model, listeners: [BrokenListener()], power: PowerController(initial: PowerController.unmanagedStatus(workerCount: 1)),
            logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await server.run()
            Issue.record("run() returned normally")
        } catch let error as TransportError {
            #expect(error.message.contains("broken"))
        }
        #expect(start.duration(to: clock.now) < .seconds(10))
    }

    /// Issue 13: a listener that failed for good (the gadget's ep0 thread stopped) ends `run()` at
    /// once with its error: no retries, no logging for ever.
    @Test func aListenerThatFailedForGoodEndsTheServiceAtOnce() async throws {
        let directory = try TemporaryDirectory("failed-listener")
        let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
        let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let model = try ServedModelLoader.loadCheckpoint(path: checkpoint, tokenizerPath: nil, logger: logger)
        let listener = FailedListener()
        let server = CartridgeServer(
            model: model, listeners: [listener], power: PowerController(initial: PowerController.unmanagedStatus(workerCount: 1)),
            logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await server.run()
            Issue.record("run() returned normally")
        } catch let error as TransportError {
            #expect(error.code == .listenerFailed)
            #expect(error.message.contains("ep0"))
        }
        #expect(listener.acceptCalls.load(ordering: .relaxed) == 1)
        #expect(start.duration(to: clock.now) < .seconds(2))
    }

    /// Issue 13: a text prompt on a cartridge without a tokenizer is UNSUPPORTED, as TOKENIZE is.
    @Test func aTextPromptWithoutTokenizerIsUnsupported() async throws {
        let directory = try TemporaryDirectory("no-tokenizer")
        let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
        let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let model = try ServedModelLoader.loadCheckpoint(path: checkpoint, tokenizerPath: nil, logger: logger)
        let server = try InProcessServer(model: model)
        var connection = try await server.connect()
        try await connection.send(GenerateRequest(prompt: .text("Once"), maximumTokens: 2).frame(requestID: 3))
        #expect(try ErrorReply(payload: try #require(try await connection.frames(of: 3).last).payload).code == .unsupported)
        try await connection.send(TokenizeRequest(text: "Once").frame(requestID: 4))
        #expect(try ErrorReply(payload: try #require(try await connection.frames(of: 4).last).payload).code == .unsupported)
        try await connection.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 2).frame(requestID: 5))
        #expect(try await connection.frames(of: 5).last?.type == .done)
        connection.close()
        try await server.stop()
    }
}
