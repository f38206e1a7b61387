import ArgumentParser
import CartridgeDaemon
import CartridgeGGML
import CartridgeGadget
import CartridgePower
import CartridgeSystem
import CartridgeTransport
import CartridgeWire
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

@main
struct CartridgeDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartridged",
        abstract: "Serve one read-only model cartridge to hosts over a Unix socket and/or USB.",
        version: "0.1.0")

    @OptionGroup var model: ModelOptions
    @OptionGroup var usb: USBOptions

    @OptionGroup var powerOptions: PowerOptions
    @OptionGroup var socketOptions: SocketOptions

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Concurrent generations across all hosts; more get BUSY.")
    var maxGenerations: Int = 4

    @Option(name: .long, help: "Concurrent EMBED requests across all hosts; more get BUSY.")
    var maxEmbeds: Int = 2

    @Option(name: .long, help: "Open connections across all listeners; one more gets ERROR(BUSY) and is closed.")
    var maxConnections: Int = 64

    @Option(name: .long, help: "Seconds a host may leave a frame unread before its streams end with DONE(stalled).")
    var stallTimeout: Double = 10

    func validate() throws {
        if socketOptions.socket == nil && !usb.usb { throw ValidationError("give at least one listener: --socket PATH and/or --usb") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if maxGenerations < 1 || maxEmbeds < 1 || maxConnections < 1 {
            throw ValidationError("--max-generations, --max-embeds and --max-connections must be at least 1")
        }
        if !(stallTimeout > 0) { throw ValidationError("--stall-timeout must be a positive number of seconds") }
        try model.validate()
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)  // a host that hangs up must not kill the daemon
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cartridge.daemon")

        let served: any ServedModel
        do {
            served = try model.load(logger: logger)
        } catch {
            logger.critical("refusing to serve", metadata: ["reason": "\(error)"])
            throw ExitCode(2)
        }
        logger.info(
            "model ready",
            metadata: ["name": "\(served.card.name)", "family": "\(served.card.family)", "kernels": "\(KernelInstructionSet.active)", "interleaved": "\(InterleavedMatrix.isAvailable)"])

        var listeners: [any CartridgeListener] = []
        if let socket = socketOptions.socket {
            do {
                if let listener = try socketOptions.makeListener() { listeners.append(listener) }
            } catch {
                logger.critical("cannot listen", metadata: ["socket": "\(socket)", "error": "\(error)"])
                throw ExitCode(3)
            }
        }
        // The power loop exists before the gadget: bMaxPower follows its budget (docs/POWER.md).
        let power = PowerController(initial: PowerController.unmanagedStatus(workerCount: 2)) { count in
            served.setWorkerCount(max(1, count))  // 0 = paused: one worker, rate-capped by the monitor
        }
        var monitor: PowerMonitor?
        if let powerSource = powerOptions.powerSource {
            do {
                monitor = try PowerMonitor(
                    sourceSpecification: powerSource, profileSpecification: powerOptions.powerProfile,
                    allowProgrammableSupply: powerOptions.powerProgrammable, allowEPR: powerOptions.powerEpr,
                    controller: power, logger: logger)
            } catch {
                logger.critical("bad power source", metadata: ["error": "\(error)"])
                for listener in listeners { listener.close() }
                throw ExitCode(4)
            }
        }
        if usb.usb {
            do {
                var maxPower = usb.usbMaxPower ?? USBOptions.defaultMaxPower
                if usb.usbMaxPower == nil, let monitor {
                    if let decision = await monitor.firstDecision(timeout: .seconds(2)) {
                        maxPower = Int(decision.maxPower.milliamps)
                        logger.info("bMaxPower from the power budget", metadata: ["usb.max_power_ma": "\(maxPower)", "power.decision": "\(decision)"])
                    } else {
                        logger.warning("no power reading within 2 s; bMaxPower stays at the default", metadata: ["usb.max_power_ma": "\(maxPower)"])
                    }
                }
                let gadget = try usb.makeListener(card: served.card, maxPowerMilliamps: maxPower, logger: logger)
                listeners.append(gadget)
                if usb.usbMaxPower == nil {
                    // Later budget changes apply at the host's next enumeration (no forced re-plug mid-session).
                    monitor?.maxPowerChanged = { milliamps in
                        guard gadget.maxPowerMilliamps != Int(milliamps) else { return }
                        do { try gadget.setMaxPower(milliamps: Int(milliamps), reenumerate: false) } catch {
                            logger.warning("cannot update bMaxPower", metadata: ["error": "\(error)"])
                        }
                    }
                }
            } catch {
                logger.critical("cannot serve over USB", metadata: ["error": "\(error)"])
                for listener in listeners { listener.close() }
                throw ExitCode(3)
            }
        }
        // Every listener is up (for USB: descriptors written, UDC bound): tell systemd.
        let notifier = SystemdNotifier()
        do { try notifier.ready(status: "serving \(served.card.name)") } catch {
            logger.warning("READY=1 failed", metadata: ["error": "\(error)"])
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let monitor { services.append(.init(service: monitor)) }
        let server = CartridgeServer(
            model: served, listeners: listeners, power: power,
            configuration: ServerConfiguration(
                maximumConcurrentGenerations: maxGenerations, deviceName: "cartridged 0.1.0", maximumConcurrentEmbeds: maxEmbeds,
                maximumConnections: maxConnections, streamStallTimeout: .milliseconds(Int64(stallTimeout * 1000))),
            logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: server),
                    .init(service: SystemdWatchdogService(notifier: notifier, logger: logger), successTerminationBehavior: .ignore),
                ] + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
