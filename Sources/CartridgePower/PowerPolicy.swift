/// The sink policy: from a snapshot of what the source offers, choose the contract that gives the
/// most usable power up to the board's peak need, then turn the budget into a throttle.
///
/// Rules (see docs/POWER.md):
/// - Only trusted objects are considered; objects outside the board's input voltage range are
///   skipped. PPS and AVS only when `allowProgrammableSupply`; EPR objects (positions 8...11)
///   only when `allowEPR`, PDO 1 is EPR Mode Capable and the cable is an EPR 5 A cable.
///   Currents above 3 A need a 5 A cable; otherwise they are clamped to 3 A.
/// - Usable power = min(offered power after current limits, peak need). Most usable power wins;
///   ties go to the lower voltage, then to fixed supplies, then to the lower position.
/// - The request asks for the current the peak needs (or what is offered, if less). If the budget
///   is below idle + one worker, Capability Mismatch is set and the maximum current field states
///   the current the board needs.
/// - Without a PD offer: a power_supply reading, then the Type-C advertisement (1.5 A / 3 A at
///   5 V, default USB 500/900 mA), then the bMaxPower the host accepted, then the safe default.
public struct PowerPolicy: Sendable {
    public struct Options: Hashable, Sendable {
        /// Consider SPR PPS and EPR/SPR AVS objects (off by default: a messaging failure on a
        /// batteryless board drops VBUS to 0 V).
        public var allowProgrammableSupply: Bool
        /// Consider EPR objects and set EPR Mode Capable in requests.
        public var allowEPR: Bool
        /// Part of the contract power held back from the budget, in percent.
        public var safetyMarginPercent: UInt32
        /// Budget when nothing usable is known (2.5 W = USB 2.0 default at 5 V, also pSnkStdby).
        public var safeDefaultMilliwatts: UInt32

        public init(
            allowProgrammableSupply: Bool = false, allowEPR: Bool = false, safetyMarginPercent: UInt32 = 10,
            safeDefaultMilliwatts: UInt32 = 2500
        ) {
            self.allowProgrammableSupply = allowProgrammableSupply
            self.allowEPR = allowEPR
            self.safetyMarginPercent = min(safetyMarginPercent, 90)
            self.safeDefaultMilliwatts = safeDefaultMilliwatts
        }
    }

    public var profile: DevicePowerProfile
    public var options: Options

    public init(profile: DevicePowerProfile, options: Options = Options()) {
        self.profile = profile
        self.options = options
    }

    // MARK: Deciding

    public func decide(_ snapshot: PowerSnapshot) -> PowerDecision {
        var reasons = snapshot.problems.map { "problem: \($0)" }

        if let budget = snapshot.staticBudgetMilliwatts {
            reasons.insert("static budget \(PowerUnits.watts(budget)) from configuration", at: 0)
            return decision(snapshot, .staticBudget, budget: budget, millivolts: 5000, milliamps: budget / 5, reasons: reasons)
        }
        guard snapshot.isAttached else {
            reasons.insert("no power partner attached", at: 0)
            return safeDefault(snapshot, reasons: reasons)
        }

        var capabilities: SourceCapabilities?
        if !snapshot.sourceCapabilities.isEmpty {
            let decoded = SourceCapabilities(rawObjects: snapshot.sourceCapabilities)
            capabilities = decoded
            reasons += decoded.allIssues.map(\.description)
            if let contract = chooseContract(decoded, snapshot: snapshot, reasons: &reasons) {
                let budget = applyMargin(contract.milliwatts)
                let state: PowerState = contract.isCapabilityMismatch ? .capabilityMismatch : .contract
                if contract.isCapabilityMismatch {
                    reasons.insert(
                        "capability mismatch: best offer gives \(PowerUnits.watts(budget)), board needs \(PowerUnits.watts(profile.minimumMilliwatts))",
                        at: 0)
                }
                reasons.insert("contract \(contract)", at: 0)
                return decision(
                    snapshot, state, capabilities: decoded, contract: contract, budget: budget,
                    millivolts: contract.millivolts, milliamps: contract.milliamps, reasons: reasons)
            }
            reasons.append("no usable PD object offered")
        }

        if let supply = snapshot.supply, supply.isOnline, let millivolts = supply.maximumMillivolts,
            let milliamps = supply.maximumMilliamps, millivolts > 0, milliamps > 0
        {
            let usableMilliamps = min(milliamps, snapshot.cable.maximumMilliamps, profile.maximumInputMilliamps)
            if profile.inputMillivolts.contains(millivolts) || millivolts <= 5000 {
                let power = min(PowerUnits.milliwatts(millivolts: millivolts, milliamps: usableMilliamps), profile.peakMilliwatts)
                reasons.insert(
                    "power supply reports \(PowerUnits.volts(millivolts)) \(PowerUnits.amps(milliamps))"
                        + (supply.usbType.map { " (\($0))" } ?? ""), at: 0)
                return decision(
                    snapshot, .powerSupply, capabilities: capabilities, budget: applyMargin(power), millivolts: millivolts,
                    milliamps: usableMilliamps, reasons: reasons)
            }
            reasons.append("power supply voltage \(PowerUnits.volts(millivolts)) outside the board's input range")
        }

        if capabilities != nil, snapshot.typeCCurrent != nil {
            reasons.append("Type-C advertisement ignored: a PD source toggles Rp for collision avoidance")
        } else if let current = snapshot.typeCCurrent {
            switch current {
            case .current1500, .current3000:
                let milliamps: UInt32 = current == .current1500 ? 1500 : 3000
                return typeCDecision(snapshot, milliamps: milliamps, current: current, reasons: reasons)
            case .usbDefault:
                if snapshot.usbConfiguredMilliamps == nil {
                    return typeCDecision(snapshot, milliamps: snapshot.usbSpeed.defaultMilliamps, current: current, reasons: reasons)
                }
            case .powerDelivery:
                reasons.append("a PD contract is active but its capabilities are not visible")
            }
        }

        if let milliamps = snapshot.usbConfiguredMilliamps {
            let usable = min(milliamps, GadgetMaxPower.maximumMilliamps(snapshot.usbSpeed))
            reasons.insert("host accepted bMaxPower \(usable)mA", at: 0)
            return decision(
                snapshot, .usbConfiguration, capabilities: capabilities, budget: applyMargin(5 * usable), millivolts: 5000,
                milliamps: usable, reasons: reasons)
        }
        reasons.insert("no usable power information", at: 0)
        return safeDefault(snapshot, capabilities: capabilities, reasons: reasons)
    }

    /// Worker count, rate cap and estimated draw for a budget.
    ///
    /// headroom = budget - idle; workers = headroom / perWorker. At least N: all workers, no cap.
    /// At least 1: floor(workers), no cap. Between 0 and 1: one worker duty-cycled at
    /// fraction x tokensPerSecondPerWorker. No headroom: paused.
    public func throttle(forBudget budget: UInt32) -> (throttle: PowerThrottle, estimatedDrawMilliwatts: UInt32) {
        let maximum = profile.maximumWorkers
        guard budget > profile.idleMilliwatts, maximum > 0 else {
            return (PowerThrottle(workerCount: 0, tokensPerSecondCap: nil), profile.idleMilliwatts)
        }
        let headroom = budget - profile.idleMilliwatts
        let whole = Int(headroom / profile.milliwattsPerWorker)
        if whole >= maximum {
            return (PowerThrottle(workerCount: maximum, tokensPerSecondCap: nil), profile.fullLoadMilliwatts)
        }
        if whole >= 1 {
            return (
                PowerThrottle(workerCount: whole, tokensPerSecondCap: nil),
                profile.idleMilliwatts + UInt32(whole) * profile.milliwattsPerWorker
            )
        }
        let fraction = Double(headroom) / Double(profile.milliwattsPerWorker)
        let cap = (fraction * profile.tokensPerSecondPerWorker * 100).rounded(.down) / 100
        return (PowerThrottle(workerCount: 1, tokensPerSecondCap: cap), profile.idleMilliwatts + headroom)
    }

    // MARK: Building decisions

    private func applyMargin(_ milliwatts: UInt32) -> UInt32 {
        UInt32(UInt64(milliwatts) * UInt64(100 - options.safetyMarginPercent) / 100)
    }

    private func typeCDecision(
        _ snapshot: PowerSnapshot, milliamps: UInt32, current: TypeCCurrent, reasons: [String]
    ) -> PowerDecision {
        var reasons = reasons
        let usable = min(milliamps, profile.maximumInputMilliamps)
        reasons.insert("Type-C advertisement \(current): \(PowerUnits.amps(milliamps)) at 5V", at: 0)
        let power = min(5 * usable, profile.peakMilliwatts)
        return decision(snapshot, .typeC, budget: applyMargin(power), millivolts: 5000, milliamps: usable, reasons: reasons)
    }

    private func safeDefault(_ snapshot: PowerSnapshot, capabilities: SourceCapabilities? = nil, reasons: [String]) -> PowerDecision {
        var reasons = reasons
        reasons.append("safe default budget \(PowerUnits.watts(options.safeDefaultMilliwatts))")
        return decision(
            snapshot, .safeDefault, capabilities: capabilities, budget: options.safeDefaultMilliwatts, millivolts: 5000,
            milliamps: options.safeDefaultMilliwatts / 5, reasons: reasons)
    }

    private func decision(
        _ snapshot: PowerSnapshot, _ state: PowerState, capabilities: SourceCapabilities? = nil,
        contract: PowerContract? = nil, budget: UInt32, millivolts: UInt32, milliamps: UInt32, reasons: [String]
    ) -> PowerDecision {
        let (throttle, draw) = throttle(forBudget: budget)
        return PowerDecision(
            sourceName: snapshot.sourceName, state: state, capabilities: capabilities, contract: contract,
            budgetMilliwatts: budget, supplyMillivolts: millivolts, supplyMilliamps: milliamps, throttle: throttle,
            maxPower: GadgetMaxPower(milliamps: budget / 5, speed: snapshot.usbSpeed), estimatedDrawMilliwatts: draw,
            reasons: reasons)
    }
}
