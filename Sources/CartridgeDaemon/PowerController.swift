public import CartridgeWire
import Synchronization

/// The daemon's current power status and inference throttle, shared by every connection.
/// A power source (sysfs, scripted, static) publishes; generation loops read the tokens/s cap
/// before every token; POWER subscribers receive every change.
public final class PowerController: Sendable {
    private struct State {
        var status: PowerStatus
        var subscribers: [Int: AsyncStream<PowerStatus>.Continuation] = [:]
        var nextSubscriber = 0
    }
    private let state: Mutex<State>
    /// Called with the new worker count whenever it changes (wired to the model).
    private let applyWorkerCount: @Sendable (Int) -> Void

    public init(initial: PowerStatus, applyWorkerCount: @escaping @Sendable (Int) -> Void = { _ in }) {
        state = Mutex(State(status: initial))
        self.applyWorkerCount = applyWorkerCount
        applyWorkerCount(Int(initial.workerCount))
    }

    public var status: PowerStatus { state.withLock { $0.status } }

    /// Tokens per second allowed, nil when uncapped.
    public var tokensPerSecondCap: Double? {
        let cap = state.withLock { $0.status.tokensPerSecondCap }
        return cap > 0 ? Double(cap) : nil
    }

    /// Publishes a new status (its `sequence` is assigned here), applies the worker count and
    /// notifies subscribers.
    public func publish(_ newStatus: PowerStatus) {
        var newStatus = newStatus
        let (subscribers, workersChanged) = state.withLock {
            state -> ([AsyncStream<PowerStatus>.Continuation], Bool) in
            newStatus.sequence = state.status.sequence &+ 1
            let changed = state.status.workerCount != newStatus.workerCount
            state.status = newStatus
            return (Array(state.subscribers.values), changed)
        }
        if workersChanged { applyWorkerCount(Int(newStatus.workerCount)) }
        for subscriber in subscribers { subscriber.yield(newStatus) }
    }

    /// Every status published from now on (only the newest is kept if the reader lags), and a
    /// function that ends the stream.
    public func changes() -> (stream: AsyncStream<PowerStatus>, finish: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: PowerStatus.self, bufferingPolicy: .bufferingNewest(1))
        let key = state.withLock { state -> Int in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
        }
        return (stream, { continuation.finish() })
    }

    /// The status of a daemon without any power information: USB 2.0 default, all workers, uncapped.
    public static func unmanagedStatus(workerCount: Int) -> PowerStatus {
        PowerStatus(
            sequence: 0, source: "unmanaged", state: "no power source configured; not throttling",
            offeredObjects: [], offeredDescriptions: [], contractPosition: 0, contractMillivolts: 5000,
            contractMilliamps: 500, budgetMilliwatts: 2500, workerCount: UInt8(clamping: workerCount),
            tokensPerSecondCap: 0, estimatedDrawMilliwatts: 0, maxPowerMilliamps: 500)
    }
}
