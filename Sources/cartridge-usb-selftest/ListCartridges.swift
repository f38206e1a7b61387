import ArgumentParser
import CartridgeUSBHost

struct ListCartridges: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List cartridges (lsusb-like).")

    @Option(help: "Seconds to wait for at least one cartridge.")
    var wait: Double = 10

    func run() async throws {
        let context = LibUSBContext()
        let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
        var found = try await context.cartridges()
        while found.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            found = try await context.cartridges()
        }
        for device in found {
            say("\(device.busAddress) \(device.manufacturer ?? "?") \(device.product ?? "?") serial=\(device.serialNumber ?? "?") at \(device.location)\(device.problem.map { " (\($0))" } ?? "")")
        }
        if found.isEmpty {
            say("no cartridge found")
            throw ExitCode(1)
        }
    }
}
