import ArgumentParser
import CartridgeClient
import CartridgeGateway
import Foundation
import Logging

/// `cartridge serve`: the OpenAI-compatible HTTP gateway over every cartridge plugged in (USB
/// hotplug) and every `--connect` cartridge.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions, /v1/embeddings) over the cartridges.",
        discussion: "Cartridges plugged in over USB join and leave as they are plugged and unplugged; --connect adds others (reconnected when they come back). Listens on loopback unless told otherwise.")

    @Option(name: .long, help: "Address to listen on, HOST:PORT (port 0: any free port, printed on start).")
    var listen = "127.0.0.1:8080"

    @Option(name: [.short, .long], help: "A cartridge to serve: unix:/path/to/socket, usb, usb:SERIAL or usb@BUS-PORT (repeatable).")
    var connect: [String] = []

    @Flag(name: .customLong("no-usb"), help: "Do not look for USB cartridges (serve only the --connect ones).")
    var noUSB = false

    @Option(name: .long, help: "File holding the API key; clients must then send 'Authorization: Bearer KEY'.")
    var apiKeyFile: String?

    @Option(name: .long, help: "Allow browser calls from this origin (CORS; repeatable; '*' for any). Default: no CORS.")
    var corsOrigin: [String] = []

    @Option(name: .long, help: "Requests in flight per cartridge.")
    var perCartridge = 4

    @Option(name: .long, help: "Requests that may wait for a busy cartridge; more get 429 with Retry-After.")
    var queueLimit = 64

    @Option(name: .long, help: "Seconds a request may wait in the queue before 503.")
    var queueTimeout = 60.0

    @Option(name: .long, help: "Largest request body in bytes (larger: 413).")
    var maxBodyBytes = 4 << 20

    @Option(name: .long, help: "Streamed answers: write at most once per this many milliseconds (tokens arriving within it go out together, at most that late; 0: every token alone).")
    var streamIntervalMs = 10.0

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        _ = try listenAddress()
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if perCartridge < 1 { throw ValidationError("--per-cartridge must be at least 1") }
        if queueLimit < 0 { throw ValidationError("--queue-limit must be >= 0") }
        if !(queueTimeout > 0) { throw ValidationError("--queue-timeout must be > 0") }
        if !(0...1000).contains(streamIntervalMs) { throw ValidationError("--stream-interval-ms must be between 0 and 1000") }
        if maxBodyBytes < 1024 { throw ValidationError("--max-body-bytes must be at least 1024") }
        if noUSB && connect.isEmpty { throw ValidationError("nothing to serve: give --connect URI or allow USB discovery") }
    }

    func listenAddress() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8080")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen must name a host, e.g. 127.0.0.1:8080") }
        return (host, port)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cartridge.gateway")
        var configuration = GatewayConfiguration()
        (configuration.host, configuration.port) = try listenAddress()
        configuration.cartridges = []
        for text in connect {
            do { configuration.cartridges.append(try CartridgeURI(parsing: text)) } catch { throw ValidationError(error.message) }
        }
        configuration.usbDiscovery = !noUSB
        configuration.corsOrigins = corsOrigin
        configuration.requestsPerCartridge = perCartridge
        configuration.queueLimit = queueLimit
        configuration.queueTimeout = .milliseconds(Int64(queueTimeout * 1000))
        configuration.maximumBodyBytes = maxBodyBytes
        configuration.streamWriteInterval = .microseconds(Int64(streamIntervalMs * 1000))
        if let apiKeyFile {
            guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8),
                !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else { throw CommandFailure("cannot read an API key from \(apiKeyFile)") }
            configuration.apiKey = text
        }
        let host = configuration.host
        let gateway = Gateway(configuration: configuration, logger: logger) { port in
            // One line on stdout, for scripts that start the gateway on port 0.
            let line = "listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(STDOUT_FILENO, $0.baseAddress, $0.count - 1) }
        }
        try await gateway.runService()
    }
}
