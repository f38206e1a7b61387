import ArgumentParser
import CartridgeClient

/// `--alongside URI`: a second connection (HELLO done) kept open and idle while a benchmark
/// times its requests over the first. Its reply reader waits in `receive` the whole time, which
/// over USB keeps an IN transfer posted, so the host controller polls the device as it does for
/// any connected client (dummy_hcd, the VM's, runs its transfer timer every 125 µs while a
/// transfer is pending): timing the socket with an idle USB connection open shows what that
/// polling costs the device's CPU, apart from carrying any bytes.
struct IdleConnectionOptions: ParsableArguments {
    @Option(help: "Also keep an idle connection to this URI open during the timed requests (e.g. usb beside a unix: URI).")
    var alongside: String?

    /// The idle connection, or nil without `--alongside`; close it when done.
    func open() async throws -> CartridgeConnection? {
        guard let alongside else { return nil }
        return try await CartridgeConnection.connect(to: try CartridgeURI(parsing: alongside), clientName: "selftest-idle")
    }

    /// " (an idle URI connection open)" for the figure line, or "".
    var label: String { alongside.map { " (an idle \($0) connection open)" } ?? "" }
}
