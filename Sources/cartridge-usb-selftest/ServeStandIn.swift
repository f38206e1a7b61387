import ArgumentParser
import CartridgeDaemon
import CartridgeGadget
import CartridgeSystem
import CartridgeTransport
import Logging
import ServiceLifecycle
import UnixSignals
import CartridgeWire

/// Serves the stand-in model with the daemon's own `CartridgeServer` over a Unix socket and the
/// USB gadget, wired as `cartridged --socket --usb` wires them.
struct ServeStandIn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the stand-in model over USB and a socket.")

    @Option(help: "Unix socket path.")
    var socket = "/run/cartridge.sock"

    @Option(help: "UDC to bind.")
    var udc: String?

    @Option(help: "Microseconds per generated token.")
    var stepMicroseconds: UInt32 = 2000

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "cartridge.daemon")
        let model = StandInModel(stepMicroseconds: stepMicroseconds)
        let socketListener = try UnixSocketListener(path: socket)
        let serial = model.card.imageDigest.prefix(6).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let usbListener = try FunctionFSListener(
            configuration: GadgetConfiguration(product: model.card.name, serialNumber: serial, controller: udc),
            logger: Logger(label: "cartridge.gadget"))
        try SystemdNotifier().ready(status: "serving \(model.card.name)")
        let server = CartridgeServer(
            model: model, listeners: [socketListener, usbListener],
            power: PowerController(initial: PowerController.unmanagedStatus(workerCount: 1)),
            configuration: ServerConfiguration(deviceName: "cartridge-usb-selftest serve"), logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
