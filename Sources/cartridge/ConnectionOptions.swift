import ArgumentParser
import CartridgeClient

#if canImport(Glibc)
import Glibc
#endif

/// `--connect URI`, shared by every command that talks to a cartridge.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Cartridge to use: unix:/path/to/socket, usb (the only one plugged in), usb:SERIAL or usb@BUS-PORT (cartridge list).",
            discussion: "Default: $CARTRIDGE_CONNECT, else unix:\(CartridgeURI.defaultSocketPath)."))
    var connect: String?

    func uri() throws -> CartridgeURI {
        let text = connect ?? getenv("CARTRIDGE_CONNECT").map { String(cString: $0) } ?? "unix:\(CartridgeURI.defaultSocketPath)"
        do {
            return try CartridgeURI(parsing: text)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func open() async throws -> CartridgeConnection {
        let uri = try uri()
        do {
            return try await CartridgeConnection.connect(to: uri, clientName: "cartridge-cli")
        } catch {
            throw CommandFailure("cannot reach the cartridge at \(uri): \(error.message)")
        }
    }
}

/// A failure the CLI reports in one line and exits 1 with.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
