import CartridgeSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemdNotifierTests {
    /// Binds a datagram socket at `address` (a path, or "@name" for an abstract one) like systemd does.
    private func receiver(_ address: String) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 } else { unlink(address) }
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (bytes.first == 0 ? 0 : 1))
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        precondition(result == 0, "bind \(address): \(errno)")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    private func receive(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }

    @Test func sendsReadyWithStatusToAPathSocket() throws {
        let path = "/tmp/cartridge-notify-\(getpid()).sock"
        let socket = receiver(path)
        defer { close(socket); unlink(path) }
        try SystemdNotifier(environment: path).ready(status: "bound to dummy_udc.0")
        #expect(receive(socket) == "READY=1\nSTATUS=bound to dummy_udc.0")
    }

    @Test func abstractSocketNamesStartWithAt() throws {
        let name = "@cartridge-notify-\(getpid())"
        let socket = receiver(name)
        defer { close(socket) }
        try SystemdNotifier(environment: name).watchdog()
        #expect(receive(socket) == "WATCHDOG=1")
    }

    @Test func withoutNotifySocketEveryCallIsANoOp() throws {
        let notifier = SystemdNotifier(environment: nil)
        #expect(notifier.socketPath == nil)
        try notifier.ready()
        try SystemdNotifier(environment: "").stopping()
    }
}
