public import CartridgePower

/// A fixed budget from configuration, for boards without any power ABI (or to pin a budget).
public struct StaticPowerSource: PowerSnapshotSource {
    public var name: String
    public var milliwatts: UInt32

    public init(name: String = "static", milliwatts: UInt32) {
        self.name = name
        self.milliwatts = milliwatts
    }

    public var snapshot: PowerSnapshot { PowerSnapshot(sourceName: name, staticBudgetMilliwatts: milliwatts) }

    public func snapshots() -> AsyncStream<PowerSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: PowerSnapshot.self)
        continuation.yield(snapshot)
        continuation.finish()
        return stream
    }
}
