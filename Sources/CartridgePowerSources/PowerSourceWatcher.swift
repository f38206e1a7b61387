public import CartridgePower
import CartridgeSystem
import Synchronization

/// Watches the Linux power ABI: reads a snapshot on a dedicated thread every `interval` and
/// yields it when it differs from the previous one (the first is always yielded).
///
/// sysfs attributes of the typec / usb_power_delivery classes do not reliably support poll(2),
/// and a partner's capabilities appear as new directories, so polling at a short interval is
/// used (default 500 ms: a change reaches the policy well within one second).
public struct PowerSourceWatcher: PowerSnapshotSource {
    public var reader: LinuxPowerSourceReader
    public var interval: Duration

    public init(reader: LinuxPowerSourceReader = LinuxPowerSourceReader(), interval: Duration = .milliseconds(500)) {
        self.reader = reader
        self.interval = interval
    }

    public func snapshots() -> AsyncStream<PowerSnapshot> {
        let poller = Poller(reader: reader, interval: interval)
        return AsyncStream(unfolding: { await poller.next() }, onCancel: { poller.stop() })
    }

    /// Owns the reading thread and the last snapshot seen.
    private final class Poller: Sendable {
        let reader: LinuxPowerSourceReader
        let interval: Duration
        let thread = DedicatedThread(name: "power-sysfs")
        let last = Mutex<PowerSnapshot?>(nil)

        init(reader: LinuxPowerSourceReader, interval: Duration) {
            self.reader = reader
            self.interval = interval
        }

        deinit { thread.shutdown() }

        func stop() { thread.shutdown() }

        func next() async -> PowerSnapshot? {
            var first = last.withLock { $0 == nil }
            while !Task.isCancelled {
                if !first {
                    do { try await Task.sleep(for: interval) } catch { return nil }
                }
                first = false
                let reader = self.reader
                guard let snapshot = try? await thread.run({ reader.read() }) else { return nil }
                let changed = last.withLock { previous -> Bool in
                    guard previous != snapshot else { return false }
                    previous = snapshot
                    return true
                }
                if changed { return snapshot }
            }
            return nil
        }
    }
}
