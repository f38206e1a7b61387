import ArgumentParser
import CartridgeTransport
import CartridgeUSBHost
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Unplugs and replugs the cartridge (UDC unbound and bound again through configfs) `cycles`
/// times while watching libusb hotplug events (needs udevd), and after every arrival opens the
/// cartridge and echoes a frame. Fails if an event does not come, or if the process holds more
/// file descriptors or threads after the loop than after the first cycle (a leak per plug).
struct HotplugLoop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hotplug-loop", abstract: "Unplug/replug N times; check events, echo and fd/thread counts.")

    @Option(help: "The gadget's configfs directory (its UDC file is written).")
    var gadget = "/sys/kernel/config/usb_gadget/cartridge"

    @Option(help: "UDC to bind again after each unplug.")
    var udc = "dummy_udc.0"

    @Option(help: "Unplug/replug cycles after the first (warm-up) one.")
    var cycles = 20

    @Option(help: "Seconds to wait for each hotplug event.")
    var timeout: Double = 20

    func run() async throws {
        let context = LibUSBContext()
        let seen = HotplugEventLog()
        let watcher = Task {
            do {
                for await event in try context.hotplugEvents() { seen.append(event) }
            } catch {
                say("hotplug-loop: \(error)")
            }
        }
        defer { watcher.cancel() }
        var consumed = 0
        func next(_ arrival: Bool) async throws -> CartridgeDeviceInfo {
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while ContinuousClock.now < deadline {
                let event = seen.event(at: consumed)
                if let event {
                    consumed += 1
                    guard event.isArrival == arrival else {
                        say("hotplug-loop: expected \(arrival ? "an arrival" : "a departure"), got \(event)")
                        throw ExitCode(1)
                    }
                    return event.device
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            say("hotplug-loop: no \(arrival ? "arrival" : "departure") within \(timeout) s")
            throw ExitCode(1)
        }
        let present = try await next(true)  // LIBUSB_HOTPLUG_ENUMERATE: the cartridge already plugged in
        say("hotplug-loop: present \(present)")

        var echoed = 0
        func cycle() async throws {
            try writeUDC("")
            let left = try await next(false)
            try writeUDC(udc)
            let arrived = try await next(true)
            guard arrived.serialNumber == present.serialNumber, left.busNumber == present.busNumber else {
                say("hotplug-loop: left \(left), arrived \(arrived); expected the cartridge \(present)")
                throw ExitCode(1)
            }
            // The client side uses the stick that arrived.
            // (The arrival can come before the kernel has configured the device: retry briefly.)
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            var opened: LibUSBTransport?
            while opened == nil {
                do {
                    opened = try await context.open(serial: arrived.serialNumber)
                } catch {
                    guard ContinuousClock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let transport = opened!
            defer { transport.close() }
            echoed += 1
            guard try await EchoFrames.roundTrip(transport, payloadSize: 508, number: echoed) else { throw ExitCode(1) }
        }
        try await cycle()  // warm-up: threads and contexts created on first use exist from here on
        let before = (descriptors: Self.count("/proc/self/fd"), threads: Self.threadNames())
        for _ in 0..<cycles { try await cycle() }
        let after = (descriptors: Self.count("/proc/self/fd"), threads: Self.threadNames())
        // Swift's global executor starts worker threads on demand, up to one per CPU: one may first
        // be needed after the warm-up. A leak per plug would show as `cycles` more.
        let poolAllowance = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let added = after.threads.count - before.threads.count
        let newNames = after.threads.filter { !before.threads.contains($0) }
        say(
            "hotplug-loop: \(cycles) unplug/replug cycles after a warm-up one, \(consumed) events, \(echoed) echoes; "
                + "file descriptors \(before.descriptors) -> \(after.descriptors), threads \(before.threads.count) -> \(after.threads.count)"
                + (newNames.isEmpty ? "" : " (new: \(Set(newNames).sorted().joined(separator: ", ")))"))
        guard after.descriptors <= before.descriptors, added <= poolAllowance else {
            say("hotplug-loop: LEAK (at most \(poolAllowance) threads may be added by the cooperative pool)")
            throw ExitCode(1)
        }
    }

    private func writeUDC(_ name: String) throws {
        let path = gadget + "/UDC"
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            say("hotplug-loop: cannot open \(path) (errno \(errno))")
            throw ExitCode(1)
        }
        defer { close(descriptor) }
        let text = Array((name.isEmpty ? "\n" : name).utf8)
        guard write(descriptor, text, text.count) == text.count else {
            say("hotplug-loop: writing '\(name)' to \(path) failed (errno \(errno))")
            throw ExitCode(1)
        }
    }

    /// The names (comm) of this process's threads.
    static func threadNames() -> [String] {
        guard let stream = opendir("/proc/self/task") else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let task = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard task != "." && task != ".." else { continue }
            guard let file = fopen("/proc/self/task/\(task)/comm", "r") else { names.append("?"); continue }
            var buffer = [CChar](repeating: 0, count: 64)
            let name = fgets(&buffer, 64, file) != nil
                ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).trimmingSuffixNewline : "?"
            fclose(file)
            names.append(name)
        }
        return names
    }

    /// Entries of a /proc directory (file descriptors or threads of this process).
    static func count(_ directory: String) -> Int {
        guard let stream = opendir(directory) else { return -1 }
        defer { closedir(stream) }
        var entries = 0
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { entries += 1 }
        }
        return entries - (directory.hasSuffix("fd") ? 1 : 0)  // the descriptor opendir itself holds
    }
}

/// The hotplug events seen so far, appended by the watching task.
final class HotplugEventLog: Sendable {
    private let events = Mutex<[USBHotplugEvent]>([])

    func append(_ event: USBHotplugEvent) { events.withLock { $0.append(event) } }

    /// The event at `index`, nil while fewer have been seen.
    func event(at index: Int) -> USBHotplugEvent? { events.withLock { $0.count > index ? $0[index] : nil } }
}

extension String {
    fileprivate var trimmingSuffixNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
