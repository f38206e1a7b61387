import ArgumentParser
import CartridgeUSBHost

/// Prints hotplug events for a while (needs udev for events after the initial enumeration).
struct WatchHotplug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Print cartridge hotplug events.")

    @Option(help: "Stop after this many events.")
    var events = 1

    func run() async throws {
        let context = LibUSBContext()
        var seen = 0
        for await event in try context.hotplugEvents() {
            say("watch: \(event)")
            seen += 1
            if seen >= events { return }
        }
    }
}
