import ArgumentParser
import CartridgeTransport
import CartridgeUSBHost

/// Echoes 256 KiB frames until the link breaks; with `--reconnect`, expects `.disconnected`,
/// then waits for the cartridge to come back and checks that echo works again.
struct StreamUntilUnplug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stream", abstract: "Echo until the cartridge goes away.")

    @OptionGroup var host: HostOptions

    @Option(help: "Give up after this many seconds without a disconnect.")
    var seconds: Double = 30

    @Flag(help: "After the disconnect, reopen and echo again.")
    var reconnect = false

    func run() async throws {
        let context = LibUSBContext()
        let transport = try await host.open(context)
        say("stream: opened \(transport.peerDescription)")
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var frames = 0
        do {
            while ContinuousClock.now < deadline {
                frames += 1
                guard try await EchoFrames.roundTrip(transport, payloadSize: 256 * 1024, number: frames) else { throw ExitCode(1) }
                if frames == 1 { say("stream: streaming") }
            }
            say("stream: no disconnect within \(seconds) s")
            throw ExitCode(1)
        } catch let error as TransportError {
            transport.close()
            say("stream: after \(frames - 1) frames: \(error.code) (\(error.message))")
            guard error.code == .disconnected else { throw ExitCode(1) }
        }
        guard reconnect else { return }
        let again = try await host.open(context)
        defer { again.close() }
        for size in [0, 508, 65536, 1_048_576] {
            frames += 1
            guard try await EchoFrames.roundTrip(again, payloadSize: size, number: frames) else { throw ExitCode(1) }
        }
        say("stream: reconnected to \(again.peerDescription), echo OK")
    }
}
