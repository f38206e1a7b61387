extension PowerPolicy {
    /// One way to use an offered object: the voltage and current the board would run at.
    struct Candidate {
        var offered: OfferedObject
        var kind: PowerObjectKind
        var millivolts: UInt32
        /// Operating current to request.
        var milliamps: UInt32
        /// min(offered power within limits, peak need).
        var usableMilliwatts: UInt32
        /// Current (or, for battery supplies, power) the board would need at this voltage to reach its peak.
        var neededMilliamps: UInt32

        /// Better when more usable power; then lower voltage; then fixed before augmented; then lower position.
        func isBetter(than other: Candidate) -> Bool {
            if usableMilliwatts != other.usableMilliwatts { return usableMilliwatts > other.usableMilliwatts }
            if millivolts != other.millivolts { return millivolts < other.millivolts }
            if offered.object.isAugmented != other.offered.object.isAugmented { return !offered.object.isAugmented }
            return offered.position < other.offered.position
        }
    }

    func chooseContract(
        _ capabilities: SourceCapabilities, snapshot: PowerSnapshot, reasons: inout [String]
    ) -> PowerContract? {
        var best: Candidate?
        for offered in capabilities.objects where offered.isTrusted {
            if case .empty = offered.object { continue }
            switch candidate(offered, capabilities: capabilities, snapshot: snapshot) {
            case .success(let candidate):
                if best.map({ candidate.isBetter(than: $0) }) ?? true { best = candidate }
            case .failure(let rejection):
                reasons.append("PDO \(offered.position) \(offered.object) skipped: \(rejection.text)")
            }
        }
        guard let best else { return nil }
        return contract(for: best)
    }

    struct Rejection: Error {
        var text: String
    }

    private func ceilingDivide(_ value: UInt64, _ divisor: UInt64) -> UInt64 { (value + divisor - 1) / divisor }

    private func roundUp(_ value: UInt64, to step: UInt64) -> UInt32 {
        UInt32(clamping: (value + step - 1) / step * step)
    }

    private func candidate(
        _ offered: OfferedObject, capabilities: SourceCapabilities, snapshot: PowerSnapshot
    ) -> Result<Candidate, Rejection> {
        guard let kind = PowerObjectKind(offered.object) else { return .failure(Rejection(text: "not requestable")) }
        let peak = UInt64(profile.peakMilliwatts)
        // EPR by object position (8...11 of EPR_Source_Capabilities) and type (EPR AVS) only, as
        // the codec classifies it: an SPR PPS APDO may offer up to 21 V and is not EPR.
        var isEPR = offered.isEPRPosition
        if case .eprAdjustable = offered.object { isEPR = true }
        if isEPR {
            guard options.allowEPR else { return .failure(Rejection(text: "EPR not enabled")) }
            guard capabilities.isEPRModeCapable else {
                return .failure(Rejection(text: "PDO 1 does not advertise EPR Mode Capable"))
            }
            guard snapshot.cable.isEPRCapable else { return .failure(Rejection(text: "cable is not an EPR 50V 5A cable")) }
        }
        if offered.object.isAugmented && !options.allowProgrammableSupply {
            return .failure(Rejection(text: "PPS/AVS not enabled"))
        }
        let currentLimit = min(snapshot.cable.maximumMilliamps, profile.maximumInputMilliamps)
        let range = profile.inputMillivolts

        switch offered.object {
        case .fixed(let fixed):
            guard range.contains(fixed.millivolts) else { return .failure(outsideRange(fixed.millivolts)) }
            return .success(current(offered, kind, millivolts: fixed.millivolts, offered: fixed.maximumMilliamps, limit: currentLimit, step: 10))
        case .variable(let variable):
            guard range.contains(variable.minimumMillivolts), range.contains(variable.maximumMillivolts) else {
                return .failure(outsideRange(variable.minimumMillivolts, variable.maximumMillivolts))
            }
            return .success(current(
                offered, kind, millivolts: variable.minimumMillivolts, offered: variable.maximumMilliamps, limit: currentLimit, step: 10))
        case .battery(let battery):
            guard range.contains(battery.minimumMillivolts), range.contains(battery.maximumMillivolts) else {
                return .failure(outsideRange(battery.minimumMillivolts, battery.maximumMillivolts))
            }
            let limitPower = PowerUnits.milliwatts(millivolts: battery.minimumMillivolts, milliamps: currentLimit)
            let offeredPower = min(battery.maximumMilliwatts, limitPower)
            let usable = UInt32(min(UInt64(offeredPower), peak))
            let needed = roundUp(peak, to: 250)
            let operating = min(needed, offeredPower / 250 * 250)
            return .success(Candidate(
                offered: offered, kind: kind, millivolts: battery.minimumMillivolts, milliamps: operating,
                usableMilliwatts: usable, neededMilliamps: needed))
        case .programmable(let pps):
            let low = max(pps.minimumMillivolts, range.lowerBound)
            let high = min(pps.maximumMillivolts, range.upperBound)
            guard low <= high else { return .failure(outsideRange(pps.minimumMillivolts, pps.maximumMillivolts)) }
            return .success(adjustable(offered, kind, low: low, high: high, voltageStep: 20) { _ in
                min(pps.maximumMilliamps, currentLimit)
            })
        case .eprAdjustable(let avs):
            let low = max(avs.minimumMillivolts, range.lowerBound)
            let high = min(avs.maximumMillivolts, range.upperBound)
            guard low <= high else { return .failure(outsideRange(avs.minimumMillivolts, avs.maximumMillivolts)) }
            return .success(adjustable(offered, kind, low: low, high: high, voltageStep: 100) { millivolts in
                min(UInt32(UInt64(avs.pdpWatts) * 1_000_000 / UInt64(millivolts)), 5000, currentLimit)
            })
        case .sprAdjustable(let avs):
            let low = max(SPRAdjustableAPDO.minimumMillivolts, range.lowerBound)
            let high = min(avs.maximumMillivolts, range.upperBound)
            guard low <= high else { return .failure(outsideRange(SPRAdjustableAPDO.minimumMillivolts, avs.maximumMillivolts)) }
            return .success(adjustable(offered, kind, low: low, high: high, voltageStep: 100) { millivolts in
                min(avs.maximumMilliamps(at: millivolts), currentLimit)
            })
        case .empty, .reservedAugmented:
            return .failure(Rejection(text: "not requestable"))
        }
    }

    private func outsideRange(_ low: UInt32, _ high: UInt32? = nil) -> Rejection {
        let offered = high.map { "\(PowerUnits.volts(low))-\(PowerUnits.volts($0))" } ?? PowerUnits.volts(low)
        let accepted = "\(PowerUnits.volts(profile.inputMillivolts.lowerBound))-\(PowerUnits.volts(profile.inputMillivolts.upperBound))"
        return Rejection(text: "\(offered) outside the board's input range \(accepted)")
    }

    /// A fixed or variable supply at `millivolts` offering `offered` mA.
    private func current(
        _ object: OfferedObject, _ kind: PowerObjectKind, millivolts: UInt32, offered: UInt32, limit: UInt32, step: UInt64
    ) -> Candidate {
        let usableCurrent = min(offered, limit) / UInt32(step) * UInt32(step)
        let usable = min(PowerUnits.milliwatts(millivolts: millivolts, milliamps: usableCurrent), profile.peakMilliwatts)
        let needed = roundUp(ceilingDivide(UInt64(profile.peakMilliwatts) * 1000, UInt64(millivolts)), to: step)
        return Candidate(
            offered: object, kind: kind, millivolts: millivolts, milliamps: min(usableCurrent, needed),
            usableMilliwatts: usable, neededMilliamps: needed)
    }

    /// A programmable or adjustable supply: the lowest voltage in `low...high` that gives the most usable power.
    private func adjustable(
        _ object: OfferedObject, _ kind: PowerObjectKind, low: UInt32, high: UInt32, voltageStep: UInt32,
        currentAt: (UInt32) -> UInt32
    ) -> Candidate {
        var millivolts = (low + voltageStep - 1) / voltageStep * voltageStep
        var best: (millivolts: UInt32, current: UInt32, usable: UInt32)?
        while millivolts <= high {
            let current = currentAt(millivolts) / 50 * 50
            let usable = min(PowerUnits.milliwatts(millivolts: millivolts, milliamps: current), profile.peakMilliwatts)
            if best.map({ usable > $0.usable }) ?? true { best = (millivolts, current, usable) }
            if usable >= profile.peakMilliwatts { break }
            millivolts += voltageStep
        }
        let chosen = best ?? (low, 0, 0)
        let needed = roundUp(ceilingDivide(UInt64(profile.peakMilliwatts) * 1000, UInt64(max(chosen.millivolts, 1))), to: 50)
        return Candidate(
            offered: object, kind: kind, millivolts: chosen.millivolts, milliamps: min(chosen.current, needed),
            usableMilliwatts: chosen.usable, neededMilliamps: needed)
    }

    private func contract(for candidate: Candidate) -> PowerContract? {
        var flags: RequestFlags = [.usbCommunicationCapable, .noUSBSuspend]
        if options.allowEPR { flags.insert(.eprModeCapable) }
        let milliwatts = candidate.kind == .battery
            ? candidate.milliamps
            : PowerUnits.milliwatts(millivolts: candidate.millivolts, milliamps: candidate.milliamps)
        let mismatch = applyMarginForContract(milliwatts) < profile.minimumMilliwatts
        if mismatch { flags.insert(.capabilityMismatch) }
        let payload: RequestDataObject.Payload
        var contractMilliamps = candidate.milliamps
        switch candidate.kind {
        case .fixed, .variable:
            let maximum = mismatch ? min(candidate.neededMilliamps, 10230) : candidate.milliamps
            payload = .current(operatingMilliamps: candidate.milliamps, maximumMilliamps: maximum)
        case .battery:
            let maximum = mismatch ? min(candidate.neededMilliamps, 255_750) : candidate.milliamps
            payload = .power(operatingMilliwatts: candidate.milliamps, maximumMilliwatts: maximum)
            contractMilliamps = UInt32(UInt64(candidate.milliamps) * 1000 / UInt64(max(candidate.millivolts, 1)))
        case .programmable:
            payload = .programmable(outputMillivolts: candidate.millivolts, operatingMilliamps: candidate.milliamps)
        case .eprAdjustable, .sprAdjustable:
            payload = .adjustable(outputMillivolts: candidate.millivolts, operatingMilliamps: candidate.milliamps)
        }
        let request = RequestDataObject(objectPosition: UInt8(candidate.offered.position), flags: flags, payload: payload)
        guard let raw = try? request.encoded() else { return nil }
        return PowerContract(
            offered: candidate.offered, millivolts: candidate.millivolts, milliamps: contractMilliamps, request: request,
            requestRaw: raw, isEPR: candidate.offered.isEPRPosition)
    }

    private func applyMarginForContract(_ milliwatts: UInt32) -> UInt32 {
        UInt32(UInt64(milliwatts) * UInt64(100 - options.safetyMarginPercent) / 100)
    }
}
