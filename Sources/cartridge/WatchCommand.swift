import ArgumentParser
import CartridgeUSBHost

/// `cartridge watch`: prints cartridges as they are plugged in and removed (the ones already
/// present first). Runs until interrupted.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Show cartridges being plugged in and removed.")

    @Option(name: .long, help: "Exit after this many events (default: run until interrupted).")
    var count: Int?

    func run() async throws {
        let events: any AsyncSequence<USBHotplugEvent, Never>
        do {
            events = try LibUSBContext().hotplugEvents()
        } catch {
            throw CommandFailure("cannot watch USB hotplug events: \(error.message)")
        }
        var seen = 0
        for await event in events {
            let device = event.device
            let what = event.isArrival ? "+ plugged in" : "- removed   "
            print("\(what) usb:\(device.serialNumber ?? "?")  \(device.product ?? "?")  (\(device.busAddress), port \(device.location))")
            seen += 1
            if let count, seen >= count { return }
        }
    }
}
