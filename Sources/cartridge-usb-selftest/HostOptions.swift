import ArgumentParser
import CartridgeUSBHost

struct HostOptions: ParsableArguments {
    @Option(help: "Serial (prefix) of the cartridge; default: the only one plugged in.")
    var serial: String?

    @Option(help: "Seconds to keep retrying while no cartridge is present.")
    var wait: Double = 10

    /// Opens the cartridge, waiting up to `wait` seconds for it to appear.
    func open(_ context: LibUSBContext) async throws -> LibUSBTransport {
        let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
        while true {
            let outcome: Result<LibUSBTransport, USBHostError>
            do { outcome = .success(try await context.open(serial: serial)) } catch { outcome = .failure(error) }
            switch outcome {
            case .success(let transport): return transport
            case .failure(let error):
                guard error.code == .notFound && ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
