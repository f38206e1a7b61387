public import CartridgePower
public import CartridgePowerSources
public import Logging
public import ServiceLifecycle
import CartridgeWire

/// The power loop: every snapshot from the source (sysfs watcher, scripted file, static budget)
/// goes through the policy, and the decision is published to the `PowerController` (which
/// applies the worker count, caps token rates and notifies POWER subscribers).
///
/// A source that ends (a script's last event, a static budget) leaves its last decision in
/// place; the service then waits for graceful shutdown.
public struct PowerMonitor: Service {
    public var source: any PowerSnapshotSource
    public var policy: PowerPolicy
    public var controller: PowerController
    public var logger: Logger
    /// Tokens per second allowed when the budget pauses inference (0 workers), so running
    /// streams keep going slowly instead of stalling; 0 disables the floor.
    public var pausedTokensPerSecond: Float
    /// Called when a decision's bMaxPower differs from the previous one (and for the first), with
    /// the new value in mA: the daemon writes it to the USB gadget's configuration.
    public var maxPowerChanged: (@Sendable (UInt32) -> Void)?

    public init(
        source: any PowerSnapshotSource, policy: PowerPolicy, controller: PowerController, logger: Logger,
        pausedTokensPerSecond: Float = 0.5
    ) {
        self.source = source
        self.policy = policy
        self.controller = controller
        self.logger = logger
        self.pausedTokensPerSecond = pausedTokensPerSecond
    }

    /// The decision for the source's first snapshot, or nil if none arrives within `timeout` (the
    /// daemon uses it for bMaxPower before the gadget is bound; `run()` starts the source afresh).
    public func firstDecision(timeout: Duration) async -> PowerDecision? {
        let source = self.source
        let first = await withTaskGroup(of: PowerSnapshot?.self) { group in
            group.addTask {
                for await snapshot in source.snapshots() { return snapshot }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        return first.map { policy.decide($0) }
    }

    public func run() async throws {
        var lastMaxPower: UInt32?
        for await snapshot in source.snapshots().cancelOnGracefulShutdown() {
            let decision = policy.decide(snapshot)
            if decision.maxPower.milliamps != lastMaxPower {
                lastMaxPower = decision.maxPower.milliamps
                maxPowerChanged?(decision.maxPower.milliamps)
            }
            logger.info(
                "power decision",
                metadata: [
                    "power.source": "\(decision.sourceName)", "power.state": "\(decision.state)",
                    "power.budget_mw": "\(decision.budgetMilliwatts)", "power.throttle": "\(decision.throttle)",
                ])
            for reason in decision.reasons { logger.debug("power reason", metadata: ["power.reason": "\(reason)"]) }
            controller.publish(status(for: decision))
        }
        try? await gracefulShutdown()
    }

    /// The POWER_STATUS fields for a decision (the controller assigns `sequence`).
    public func status(for decision: PowerDecision) -> PowerStatus {
        let summary = decision.summary
        let paused = summary.workerCount == 0
        let cap: Float = paused ? pausedTokensPerSecond : Float(summary.tokensPerSecondCap ?? 0)
        return PowerStatus(
            sequence: 0, source: summary.sourceName, state: summary.stateText, offeredObjects: summary.offeredObjects,
            offeredDescriptions: summary.offeredDescriptions, contractPosition: summary.contractPosition,
            contractMillivolts: summary.contractMillivolts, contractMilliamps: summary.contractMilliamps,
            budgetMilliwatts: summary.budgetMilliwatts, workerCount: UInt8(clamping: summary.workerCount),
            tokensPerSecondCap: cap, estimatedDrawMilliwatts: summary.estimatedDrawMilliwatts,
            maxPowerMilliamps: UInt16(clamping: summary.maxPowerMilliamps), requestDataObject: summary.requestDataObject)
    }
}

extension PowerMonitor {
    /// Builds a monitor from command-line text: `source` is `sysfs`, `sysfs:/root`, `static:10W`
    /// or a scripted power source file; `profile` a preset name or a custom profile
    /// (see `DevicePowerProfile(specification:)`).
    public init(
        sourceSpecification: String, profileSpecification: String, allowProgrammableSupply: Bool = false,
        allowEPR: Bool = false, controller: PowerController, logger: Logger
    ) throws {
        let profile = try DevicePowerProfile(specification: profileSpecification)
        self.init(
            source: try PowerSourceSpecification.source(sourceSpecification),
            policy: PowerPolicy(profile: profile, options: .init(allowProgrammableSupply: allowProgrammableSupply, allowEPR: allowEPR)),
            controller: controller, logger: logger)
    }
}
