import ArgumentParser
import CartridgeUSBHost

/// `cartridge list`: the cartridges plugged into this host, found by their USB interface
/// (class 0xff, subclass 0xca, protocol 0x01) whatever their VID:PID. Each line starts with the
/// URI that opens that cartridge: `usb:SERIAL`, or `usb@BUS-PORT` where several sticks burned
/// from the same image share the serial.
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
        var sharing: [String: Int] = [:]
        for device in found { sharing[device.serialNumber ?? "?", default: 0] += 1 }
        for device in found {
            let name = device.product ?? "?"
            let serial = device.serialNumber ?? "?"
            let uri = sharing[serial, default: 0] > 1 ? "usb@\(device.location)" : "usb:\(serial)"
            var line = "\(uri)  \(name)  (\(device.busAddress), port \(device.location), serial \(serial))"
            if let problem = device.problem { line += "  ! \(problem)" }
            print(line)
        }
    }
}
