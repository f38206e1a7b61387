/// The policy's answer to a snapshot: the contract (if PD), the budget, the throttle and the
/// gadget's bMaxPower, with the reasons.
public struct PowerDecision: Hashable, Sendable, CustomStringConvertible {
    public var sourceName: String
    public var state: PowerState
    /// The decoded offer, nil when the source offered no PD objects.
    public var capabilities: SourceCapabilities?
    public var contract: PowerContract?
    /// Power the device allows itself (after the safety margin).
    public var budgetMilliwatts: UInt32
    /// Supply voltage and current the budget is based on (5 V for Type-C and USB fallbacks).
    public var supplyMillivolts: UInt32
    public var supplyMilliamps: UInt32
    public var throttle: PowerThrottle
    public var maxPower: GadgetMaxPower
    /// The board's expected draw under `throttle`.
    public var estimatedDrawMilliwatts: UInt32
    /// Why: the contract or fallback chosen, objects skipped, problems met.
    public var reasons: [String]

    public var description: String {
        "\(state): budget \(PowerUnits.watts(budgetMilliwatts)), \(throttle), draw ~\(PowerUnits.watts(estimatedDrawMilliwatts))"
    }

    public var summary: PowerSummary {
        let offered = capabilities?.objects ?? []
        return PowerSummary(
            sourceName: sourceName, stateName: state.description,
            stateText: ([description] + reasons).joined(separator: "; "),
            offeredObjects: offered.map(\.raw),
            offeredDescriptions: offered.map { object in
                object.isTrusted ? object.description : object.description + " (untrusted)"
            },
            contractPosition: UInt8(contract?.position ?? 0),
            contractMillivolts: supplyMillivolts, contractMilliamps: supplyMilliamps,
            budgetMilliwatts: budgetMilliwatts, workerCount: throttle.workerCount,
            tokensPerSecondCap: throttle.tokensPerSecondCap, estimatedDrawMilliwatts: estimatedDrawMilliwatts,
            maxPowerMilliamps: maxPower.milliamps, maxPowerDescriptorValue: maxPower.descriptorValue,
            requestDataObject: contract?.requestRaw ?? 0)
    }
}
