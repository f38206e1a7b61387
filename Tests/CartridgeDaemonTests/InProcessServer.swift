import CartridgeClient
import CartridgeDaemon
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Logging
import ServiceLifecycle

/// `CartridgeServer` in this process, serving the tiny synthetic checkpoint over the in-memory
/// transport, run by a `ServiceGroup` whose graceful shutdown the test triggers.
final class InProcessServer: Sendable {
    let listener: InMemoryListener
    let directory: TemporaryDirectory
    let group: ServiceGroup
    let running: Task<Void, any Error>

    /// - Parameter capacity: bytes each direction of a connection buffers before `send` suspends.
    init(configuration: ServerConfiguration = ServerConfiguration(), model: (any ServedModel)? = nil, capacity: Int = 64 * 1024) throws {
        listener = InMemoryListener(capacity: capacity)
        directory = try TemporaryDirectory("in-process")
        let logger = Logger(label: "cartridge.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let served: any ServedModel
        if let model {
            served = model
        } else {
            let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
            let tokenizer = try directory.write(SyntheticTokenizer.fileBytes(size: TinyCheckpoint.vocabulary), to: "tokenizer.bin")
            served = try ServedModelLoader.loadCheckpoint(path: checkpoint, tokenizerPath: tokenizer, logger: logger)
        }
        let power = PowerController(initial: PowerController.unmanagedStatus(workerCount: 2))
        let server = CartridgeServer(
            model: served, listeners: [listener], power: power, configuration: configuration, logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        self.group = group
        running = Task { try await group.run() }
    }

    /// A raw connection that has completed HELLO.
    func connect(maximumPayloadLength: UInt32 = 1 << 20) async throws -> RawConnection {
        var connection = RawConnection(listener.connect())
        try await connection.send(HelloRequest(maximumPayloadLength: maximumPayloadLength, clientName: "in-process").frame(requestID: 1))
        let reply = try await connection.next()
        guard reply.type == .helloReply else { throw DaemonFailure("HELLO answered with \(reply)") }
        return connection
    }

    /// Graceful shutdown; returns when `run()` has returned.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// Frames in and out of one in-memory connection.
struct RawConnection {
    let transport: InMemoryTransport
    private var reader: RawFrameReader

    init(_ transport: InMemoryTransport) {
        self.transport = transport
        reader = RawFrameReader(transport)
    }

    func send(_ frame: Frame) async throws { try await transport.send(frame.encoded()) }

    /// The next frame from the device.
    mutating func next() async throws -> Frame { try await reader.next() }

    /// Frames of `id` up to and including its final frame (a reply, DONE or ERROR); frames of
    /// other ids are dropped. A connection-level ERROR (id 0, e.g. a refused id) also ends the list.
    mutating func frames(of id: UInt32, subscribed: Bool = false) async throws -> [Frame] {
        var frames: [Frame] = []
        while true {
            let frame = try await next()
            if frame.requestID == 0 && frame.type == .error { return frames + [frame] }
            guard frame.requestID == id else { continue }
            frames.append(frame)
            let isStreamFrame = frame.type == .token || (subscribed && frame.type == .powerStatus)
            if !isStreamFrame { return frames }
        }
    }

    func close() { transport.close() }
}
