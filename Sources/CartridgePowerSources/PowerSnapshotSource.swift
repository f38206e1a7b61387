public import CartridgePower

/// Anything that produces power snapshots over time: the sysfs watcher, a scripted file, a static
/// budget. The daemon runs every kind through the same policy.
public protocol PowerSnapshotSource: Sendable {
    /// Snapshots, the first as soon as it is known, then one per change. Ends when the source
    /// has nothing more to say (a script's last event) or when the consuming task is cancelled.
    func snapshots() -> AsyncStream<PowerSnapshot>
}
