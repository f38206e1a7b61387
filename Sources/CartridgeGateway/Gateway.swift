import CartridgeClient
import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The host gateway: an OpenAI-compatible HTTP API (Hummingbird 2) over a pool of cartridges.
///
/// ```swift
/// var configuration = GatewayConfiguration()
/// configuration.cartridges = [try CartridgeURI(parsing: "unix:/tmp/cartridge.sock")]
/// try await Gateway(configuration: configuration, logger: logger).run()
/// ```
/// It keeps no state across requests, so several gateways scale out behind an ordinary HTTP
/// load balancer (docs/SCALING.md).
public struct Gateway: Service {
    public let configuration: GatewayConfiguration
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    private let pool: CartridgePool
    private let metrics: GatewayMetrics

    /// `onListening` gets the bound port once the server accepts connections.
    public init(configuration: GatewayConfiguration, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
        metrics = GatewayMetrics()
        var poolConfiguration = CartridgePool.Configuration()
        poolConfiguration.requestsPerCartridge = max(1, configuration.requestsPerCartridge)
        poolConfiguration.queueLimit = max(0, configuration.queueLimit)
        poolConfiguration.queueTimeout = configuration.queueTimeout
        pool = CartridgePool(configuration: poolConfiguration, metrics: metrics, logger: logger)
    }

    /// Serves until cancelled or shut down gracefully (requests in flight finish first).
    public func run() async throws {
        let responder = GatewayResponder(
            pool: pool, caller: CartridgeCaller(pool: pool), metrics: metrics, configuration: configuration,
            apiKey: configuration.apiKey.flatMap(APIKey.init(fileContents:)), logger: logger)
        let onListening = self.onListening
        let logger = self.logger
        let application = Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientDisconnectWatcher()])),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "cartridge-gateway"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("gateway listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                await onListening(port)
            },
            logger: logger)
        let scanner: (any CartridgeScanner)? = configuration.scanner ?? (configuration.usbDiscovery ? LibUSBCartridgeScanner() : nil)
        let supervisor = PoolSupervisor(
            pool: pool, sources: configuration.cartridges, scanner: scanner, metrics: metrics, logger: logger,
            healthInterval: configuration.healthInterval)
        try await withThrowingDiscardingTaskGroup { group in
            // The pool lives until the server has finished its last request (graceful shutdown
            // lets streams in flight complete), then its supervisor is cancelled.
            group.addTask { await supervisor.run() }
            try await application.run()
            group.cancelAll()
        }
    }

    /// Runs as the process's service: SIGTERM and SIGINT shut it down gracefully.
    public func runService() async throws {
        let group = ServiceGroup(
            configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
