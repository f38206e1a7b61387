import CartridgeClient
import CartridgeUSBHost

/// A cartridge found by a bus scan: where it is plugged in and how to open exactly that one.
struct ScannedCartridge: Sendable, Hashable {
    /// What tells it apart from every other cartridge plugged in now: its bus/port path
    /// (`1-1.2`). Two sticks burned from the same image share a serial (the image digest prefix),
    /// never a location.
    var location: String
    /// The image digest prefix it reports, for logs.
    var serial: String?
    /// How to open it (`usb@1-1.2` for USB).
    var uri: CartridgeURI
}

/// Finds the cartridges plugged in. The gateway's pool follows it (`PoolSupervisor`): each
/// location found is opened once and served until it leaves. USB uses libusb
/// (`LibUSBCartridgeScanner`); tests use an in-memory list over Unix sockets.
protocol CartridgeScanner: Sendable {
    /// The cartridges that can be opened now.
    func scan() async -> [ScannedCartridge]
    /// Locations of cartridges as they are unplugged, where the bus reports it (nil otherwise: a
    /// cartridge that left is then noticed by its failed health check).
    func departures() -> AsyncStream<String>?
}

/// USB cartridges through libusb: a scan lists every cartridge interface whose strings could be
/// read; departures come from libusb hotplug events where udevd runs.
struct LibUSBCartridgeScanner: CartridgeScanner {
    let context = LibUSBContext()

    func scan() async -> [ScannedCartridge] {
        let found = (try? await context.cartridges()) ?? []
        return found.filter { $0.problem == nil }.map {
            ScannedCartridge(location: $0.location, serial: $0.serialNumber, uri: .usbPort(path: $0.location))
        }
    }

    func departures() -> AsyncStream<String>? {
        guard let events = try? context.hotplugEvents() else { return nil }
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let task = Task {
            for await event in events where !event.isArrival { continuation.yield(event.device.location) }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
