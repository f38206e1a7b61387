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
        let descriptor: OwnedDescriptor
        do throws(SystemCallError) { descriptor = try OwnedDescriptor.open(path, O_RDONLY) } catch {
            let code: PowerSourceError.Code = error.code == .noSuchFileOrDirectory ? .missingFile : .ioFailure
            throw PowerSourceError(code, "cannot open power script \(path)", cause: error)
        }
        let bytes: [UInt8]
        do throws(SystemCallError) { bytes = try descriptor.readToEnd(limit: maximumFileBytes + 1) } catch {
            throw PowerSourceError(.ioFailure, "cannot read power script \(path)", cause: error)
        }
        if bytes.count > maximumFileBytes {
            throw PowerSourceError(.malformedValue, "power script \(path) is larger than \(maximumFileBytes) bytes")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PowerSourceError(.malformedValue, "power script \(path) is not UTF-8 text")
        }
        return text
    }
}
