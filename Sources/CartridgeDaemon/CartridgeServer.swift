public import CartridgeTransport
public import Logging
public import ServiceLifecycle
import CartridgeSystem
import CartridgeWire
import Synchronization

/// The device daemon's core: serves one model to every host that connects through its
/// listeners (Unix socket, USB gadget). A `Service`: `run()` returns after a graceful shutdown
/// (SIGTERM/SIGINT through `ServiceGroup`), when every stream has ended with DONE(shutdown).
public final class CartridgeServer: Service {
    private let listeners: [any CartridgeListener]
    private let context: ServerContext
    private let connections = Mutex<[ObjectIdentifier: ConnectionHandler]>([:])
    private let stopping = Atomic<Bool>(false)
    /// Why the server must stop on its own (a listener that keeps failing); ends `run()` with it.
    private let failure = Mutex<TransportError?>(nil)
    private let fatal = AsyncStream.makeStream(of: Void.self)
    /// Consecutive `accept` failures (100 ms apart) after which a listener is considered broken.
    static let maximumConsecutiveAcceptFailures = 30

    /// Connections open now (for tests and diagnostics).
    public var connectionCount: Int { connections.withLock { $0.count } }

    public init(
        model: any ServedModel, listeners: [any CartridgeListener], power: PowerController,
        configuration: ServerConfiguration = ServerConfiguration(), logger: Logger
    ) {
        self.listeners = listeners
        self.context = ServerContext(
            model: model, inference: DedicatedThread(name: "inference"), power: power,
            generationSlots: GenerationSlots(capacity: configuration.maximumConcurrentGenerations),
            embedSlots: GenerationSlots(capacity: configuration.maximumConcurrentEmbeds),
            configuration: configuration, logger: logger)
    }

    public func run() async throws {
        let logger = context.logger
        let fatalEvents = fatal.stream
        await withDiscardingTaskGroup { group in
            for listener in listeners {
                group.addTask { await self.acceptConnections(from: listener) }
            }
            group.addTask { await self.sweepConnections() }
            group.addTask {
                // Wait for SIGTERM/SIGINT (or cancellation), then stop accepting, end every stream
                // with DONE(shutdown), and close connections whose hosts do not let go in time.
                await withTaskGroup(of: Void.self) { waiting in
                    waiting.addTask { try? await gracefulShutdown() }
                    waiting.addTask { for await _ in fatalEvents { break } }
                    await waiting.next()
                    waiting.cancelAll()
                }
                self.stopping.store(true, ordering: .relaxed)
                logger.info("shutting down")
                for listener in self.listeners { listener.close() }
                for handler in self.connections.withLock({ Array($0.values) }) { handler.beginShutdown() }
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(5))
                while clock.now < deadline && self.connections.withLock({ !$0.isEmpty }) {
                    try? await Task.sleep(for: .milliseconds(10))
                }
                for handler in self.connections.withLock({ Array($0.values) }) { handler.forceClose() }
            }
        }
        context.inference.shutdown()
        if let failure = failure.withLock({ $0 }) { throw failure }
        logger.info("stopped")
    }

    private func acceptConnections(from listener: any CartridgeListener) async {
        let logger = context.logger
        logger.info("listening", metadata: ["endpoint": "\(listener.endpointDescription)"])
        var consecutiveFailures = 0
        await withDiscardingTaskGroup { group in
            while true {
                let transport: (any CartridgeTransport)?
                do throws(TransportError) {
                    transport = try await listener.accept()
                    consecutiveFailures = 0
                } catch {
                    consecutiveFailures += 1
                    logger.info("accept failed", metadata: ["endpoint": "\(listener.endpointDescription)", "error": "\(error)"])
                    // A broken listener ends the service with an error instead of logging for ever:
                    // at once when it says it failed for good (the USB gadget's ep0 thread stopped),
                    // after `maximumConsecutiveAcceptFailures` otherwise.
                    if error.code == .listenerFailed || consecutiveFailures >= Self.maximumConsecutiveAcceptFailures {
                        let broken = error
                        failure.withLock { if $0 == nil { $0 = broken } }
                        fatal.continuation.yield()
                        break
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                guard let transport else { break }
                let limit = context.configuration.maximumConnections
                let handler = ConnectionHandler(transport: transport, context: context)
                let key = ObjectIdentifier(handler)
                let admitted = connections.withLock { connections -> Bool in
                    guard connections.count < limit else { return false }
                    connections[key] = handler
                    return true
                }
                guard admitted else {
                    logger.notice("connection refused: limit reached", metadata: ["connections.limit": "\(limit)"])
                    group.addTask { await Self.refuse(transport, limit: limit) }
                    continue
                }
                group.addTask {
                    // On the transport's own executor where it has one (USB: the OUT endpoint's
                    // thread, so a request frame is decoded and answered without a thread hand-off).
                    await withTaskExecutorPreference(transport.preferredTaskExecutor) { await handler.run() }
                    self.connections.withLock { _ = $0.removeValue(forKey: key) }
                }
            }
        }
    }

    /// A connection past the limit: one ERROR(BUSY) with id 0, then close (PROTOCOL.md 6).
    private static func refuse(_ transport: any CartridgeTransport, limit: Int) async {
        let refusal = ErrorReply(.busy, "the cartridge already serves \(limit) connections; try again later")
        try? await transport.send(refusal.frame(requestID: 0).encoded())
        transport.close()
    }

    /// Four times a second: closes connections that have not completed HELLO in time, and ends
    /// the streams of hosts that stopped reading (their generation slots are given back).
    private func sweepConnections() async {
        let clock = ContinuousClock()
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = clock.now
            for handler in connections.withLock({ Array($0.values) }) { handler.sweep(now: now) }
        }
    }
}
