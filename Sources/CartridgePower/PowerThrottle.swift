/// How much inference the budget allows.
public struct PowerThrottle: Hashable, Sendable, CustomStringConvertible {
    /// Inference workers (0 = inference paused: the budget does not cover the idle draw).
    public var workerCount: Int
    /// Average tokens per second allowed across the device, nil when uncapped. Set when the
    /// budget covers only a fraction of one worker: that worker runs duty-cycled.
    public var tokensPerSecondCap: Double?

    public init(workerCount: Int, tokensPerSecondCap: Double?) {
        self.workerCount = workerCount
        self.tokensPerSecondCap = tokensPerSecondCap
    }

    public var description: String {
        if workerCount == 0 { return "paused" }
        let cap = tokensPerSecondCap.map { ", cap \(Self.format($0)) tok/s" } ?? ""
        return "\(workerCount) worker\(workerCount == 1 ? "" : "s")\(cap)"
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
