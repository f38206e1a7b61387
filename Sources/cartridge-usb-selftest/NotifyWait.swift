import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Plays systemd's side of sd_notify: binds a datagram socket and waits for READY=1.
struct NotifyWait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notify-wait", abstract: "Wait for READY=1 on a notify socket.")

    @Argument(help: "Socket path (set NOTIFY_SOCKET to it for the device).")
    var path: String

    @Option(help: "Seconds to wait.")
    var timeout: Int = 30

    @Flag(help: "Bind and exit at once (create the socket), then wait in a second call with --existing.")
    var existing = false

    func run() throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw ValidationError("cannot bind \(path)") }
        var timeoutValue = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeoutValue, socklen_t(MemoryLayout<timeval>.size))
        say("notify: listening on \(path)")
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw ExitCode(2) }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            say("notify: received \(text.split(separator: "\n").joined(separator: " | "))")
            if text.split(separator: "\n").contains("READY=1") { return }
        }
    }
}
