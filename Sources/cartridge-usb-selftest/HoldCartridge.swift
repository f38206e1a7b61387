import ArgumentParser
import CartridgeUSBHost

/// Opens the cartridge and keeps it claimed for a while (the first process of the BUSY check).
struct HoldCartridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hold", abstract: "Claim the cartridge and hold it.")

    @OptionGroup var host: HostOptions

    @Option(help: "Seconds to hold.")
    var seconds: Double = 5

    func run() async throws {
        let context = LibUSBContext()
        let transport = try await host.open(context)
        defer { transport.close() }
        say("hold: claimed \(transport.peerDescription)")
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        guard try await EchoFrames.roundTrip(transport, payloadSize: 1000, number: 1) else { throw ExitCode(1) }
        say("hold: still working after \(seconds) s")
    }
}
