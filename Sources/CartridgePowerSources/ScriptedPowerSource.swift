public import CartridgePower
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Replays a `PowerScript` in real time: each event's snapshot is yielded at its offset from the
/// moment iteration starts. The stream ends after the last event (the daemon keeps the last
/// decision).
public struct ScriptedPowerSource: PowerSnapshotSource {
    public var script: PowerScript

    public init(script: PowerScript) { self.script = script }

    /// Reads and parses `file` (blocking; call at start-up). Errors name the file and line.
    public init(file: String) throws(PowerSourceError) {
        script = try PowerScript(parsing: try Self.readFile(file), name: file)
    }

    public func snapshots() -> AsyncStream<PowerSnapshot> {
        let replay = Replay(events: script.events)
        return AsyncStream { await replay.next() }
    }

    private final class Replay: Sendable {
        let events: [PowerScript.Event]
        /// Index of the next event and the start instant, set on the first call.
        let position = Mutex<(index: Int, start: ContinuousClock.Instant?)>((0, nil))

        init(events: [PowerScript.Event]) { self.events = events }

        func next() async -> PowerSnapshot? {
            let clock = ContinuousClock()
            let (index, start) = position.withLock { state -> (Int, ContinuousClock.Instant) in
                let start = state.start ?? clock.now
                state.start = start
                state.index += 1
                return (state.index - 1, start)
            }
            guard index < events.count else { return nil }
            do {
                try await clock.sleep(until: start.advanced(by: events[index].offset))
            } catch {
                return nil
            }
            return events[index].snapshot
        }
    }

    static let maximumFileBytes = 1 << 20

    static func readFile(_ path: String) throws(PowerSourceError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let cause = SystemCallError.current("open")
            let code: PowerSourceError.Code = cause.errno == ENOENT ? .missingFile : .ioFailure
            throw PowerSourceError(code, "cannot open power script \(path)", cause: cause)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw PowerSourceError(.ioFailure, "cannot read power script \(path)", cause: SystemCallError.current("read"))
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            if bytes.count > maximumFileBytes {
                throw PowerSourceError(.malformedValue, "power script \(path) is larger than \(maximumFileBytes) bytes")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PowerSourceError(.malformedValue, "power script \(path) is not UTF-8 text")
        }
        return text
    }
}
