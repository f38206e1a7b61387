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

    public init(
        model: any ServedModel, listeners: [any CartridgeListener], power: PowerController,
        configuration: ServerConfiguration = ServerConfiguration(), logger: Logger
    ) {
        self.listeners = listeners
        self.context = ServerContext(
            model: model, inference: DedicatedThread(name: "inference"), power: power,
            generationSlots: GenerationSlots(capacity: configuration.maximumConcurrentGenerations),
            configuration: configuration, logger: logger)
    }

    public func run() async throws {
        let logger = context.logger
        await withDiscardingTaskGroup { group in
            for listener in listeners {
                group.addTask { await self.acceptConnections(from: listener) }
            }
            group.addTask {
                // Wait for SIGTERM/SIGINT (or cancellation), then stop accepting, end every stream
                // with DONE(shutdown), and close connections whose hosts do not let go in time.
                try? await gracefulShutdown()
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
        logger.info("stopped")
    }

    private func acceptConnections(from listener: any CartridgeListener) async {
        let logger = context.logger
        logger.info("listening", metadata: ["endpoint": "\(listener.endpointDescription)"])
        await withDiscardingTaskGroup { group in
            while true {
                let transport: (any CartridgeTransport)?
                do {
                    transport = try await listener.accept()
                } catch {
                    logger.error("accept failed", metadata: ["endpoint": "\(listener.endpointDescription)", "error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                guard let transport else { break }
                let handler = ConnectionHandler(transport: transport, context: context)
                let key = ObjectIdentifier(handler)
                connections.withLock { $0[key] = handler }
                group.addTask {
                    await handler.run()
                    self.connections.withLock { _ = $0.removeValue(forKey: key) }
                }
            }
        }
    }
}
