import ArgumentParser
import CartridgeUSBHost

/// `cartridge list`: the cartridges plugged into this host, found by their USB interface
/// (class 0xff, subclass 0xca, protocol 0x01) whatever their VID:PID.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the cartridges plugged in over USB.")

    func run() async throws {
        let found: [CartridgeDeviceInfo]
        do {
            found = try await LibUSBContext().cartridges()
        } catch {
            throw CommandFailure("cannot list USB devices: \(error.message)")
        }
        if found.isEmpty {
            print("no cartridge plugged in")
            return
        }
        for device in found {
            let name = device.product ?? "?"
            let serial = device.serialNumber ?? "?"
            var line = "usb:\(serial)  \(name)  (\(device.busAddress), port \(device.location))"
            if let problem = device.problem { line += "  ! \(problem)" }
            print(line)
        }
    }
}
