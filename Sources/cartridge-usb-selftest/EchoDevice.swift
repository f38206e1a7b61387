import ArgumentParser
import CartridgeGadget
import CartridgeSystem
import CartridgeTransport
import Logging
import UnixSignals

/// The device side: a FunctionFS gadget that echoes every byte back, one session per host ENABLE.
struct EchoDevice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "Run the echo gadget until SIGTERM.")

    @Option(help: "UDC to bind (default: the first in /sys/class/udc).")
    var udc: String?

    @Option(help: "USB product ID (hex, 0x...).", transform: { text in
        guard let value = UInt16(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16) else {
            throw ValidationError("'\(text)' is not a hex product ID")
        }
        return value
    })
    var pid: UInt16 = GadgetConfiguration.testProductID

    @Option(help: "Product string (the model name).")
    var product = "Cartridge Selftest"

    @Option(help: "Serial number (the image digest prefix).")
    var serial = "5e1f7e570001"

    @Option(help: "bMaxPower in mA.")
    var maxPower = 250

    @Option(help: "bMaxPower in mA applied on SIGHUP (with re-enumeration).")
    var changedMaxPower = 100

    @Option(help: "Where to mount FunctionFS.")
    var mountPoint = "/run/cartridged/ffs"

    func run() async throws {
        var logger = Logger(label: "cartridge.gadget")
        logger.logLevel = .info
        let configuration = GadgetConfiguration(
            productID: pid, product: product, serialNumber: serial, maxPowerMilliamps: maxPower, controller: udc,
            mountPoint: mountPoint)
        let listener = try FunctionFSListener(configuration: configuration, logger: logger)
        try SystemdNotifier().ready(status: "bound to \(listener.controller)")
        say("device: ready on \(listener.controller) (bMaxPower \(listener.maxPowerMilliamps ?? -1) mA)")
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let changedMaxPower = changedMaxPower
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await signal in signals {
                    if signal == .sighup {
                        // SIGHUP: apply the changed bMaxPower and re-enumerate so the host sees it.
                        do {
                            try listener.setMaxPower(milliamps: changedMaxPower, reenumerate: true)
                            say("device: bMaxPower now \(listener.maxPowerMilliamps ?? -1) mA")
                        } catch {
                            say("device: changing bMaxPower failed: \(error)")
                        }
                        continue
                    }
                    say("device: \(signal), closing")
                    listener.close()
                    return
                }
            }
            while let transport = try? await listener.accept() {
                group.addTask { await withTaskExecutorPreference(transport.preferredTaskExecutor) { await EchoDevice.echo(transport) } }
            }
        }
        say("device: stopped")
    }

    static func echo(_ transport: any CartridgeTransport) async {
        say("device: session \(transport.peerDescription) started")
        var total = 0
        do {
            while true {
                let bytes = try await transport.receive(maximumCount: 1024 * 1024)
                if bytes.isEmpty { break }
                try await transport.send(bytes)
                total += bytes.count
            }
        } catch {
            say("device: session \(transport.peerDescription) ended after \(total) bytes: \(error.code)")
        }
        transport.close()
    }
}
