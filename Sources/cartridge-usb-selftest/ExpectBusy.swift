import ArgumentParser
import CartridgeUSBHost

/// Succeeds when opening the cartridge fails with `.busy` (another process holds it).
struct ExpectBusy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "expect-busy", abstract: "Check that a held cartridge reports BUSY.")

    @OptionGroup var host: HostOptions

    func run() async throws {
        let context = LibUSBContext()
        do {
            let transport = try await host.open(context)
            transport.close()
            say("expect-busy: opened the cartridge although another process holds it")
            throw ExitCode(1)
        } catch let error as USBHostError where error.code == .busy {
            say("expect-busy: got \(error.code) [\(error.libusbName ?? "-")]: \(error.message)")
        }
    }
}
