import ArgumentParser
import CartridgeUSBHost

/// Echoes frames of every size in `EchoFrames.payloadSizes` and checks them byte for byte.
struct EchoCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "Echo frames of sizes 0...2 MiB and compare.")

    @OptionGroup var host: HostOptions

    @Option(help: "Rounds over all sizes.")
    var rounds = 1

    func run() async throws {
        let context = LibUSBContext()
        let transport = try await host.open(context)
        defer { transport.close() }
        say("echo: opened \(transport.peerDescription) (IN wMaxPacketSize \(transport.packetSize))")
        var number = 0
        for _ in 0..<rounds {
            for size in EchoFrames.payloadSizes {
                number += 1
                guard try await EchoFrames.roundTrip(transport, payloadSize: size, number: number) else { throw ExitCode(1) }
            }
        }
        say("echo: \(number) frames OK, payload sizes \(EchoFrames.payloadSizes.map(String.init).joined(separator: ","))")
    }
}
