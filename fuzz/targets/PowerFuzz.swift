// libFuzzer target: the USB PD decoders and the policy of CartridgePower. The input is read as
// little-endian 32-bit words: source capabilities (up to 11 objects, EPR layout when more than 7),
// then a request data object to decode against them.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPower(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var words: [UInt32] = []
    var index = 0
    while index + 4 <= bytes.count {
        words.append(UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
        index += 4
    }
    guard let first = words.first else { return 0 }
    let objects = Array(words.prefix(11))
    for (position, raw) in objects.enumerated() {
        let object = PowerDataObject(raw: raw, position: position + 1)
        _ = object.description
        _ = try? object.encoded()
    }
    let capabilities = SourceCapabilities(rawObjects: objects)
    _ = capabilities.objects.map(\.description)
    let snapshot = PowerSnapshot(
        sourceName: "fuzz", sourceCapabilities: objects, typeCCurrent: .powerDelivery,
        cable: first & 1 == 0 ? .fiveAmp : .epr)
    for profile in [DevicePowerProfile.raspberryPi5, .raspberryPiZero2W, .rk3588] {
        let policy = PowerPolicy(profile: profile, options: .init(allowProgrammableSupply: first & 2 != 0, allowEPR: first & 4 != 0))
        let decision = policy.decide(snapshot)
        _ = decision.summary
        if let contract = decision.contract, let kind = PowerObjectKind(contract.offered.object) {
            // The RDO the policy chose must decode again to the request it encodes.
            let decoded = try? RequestDataObject(raw: contract.requestRaw, requesting: kind)
            precondition(decoded == contract.request, "RDO 0x\(String(contract.requestRaw, radix: 16)) does not decode to \(contract.request)")
        }
    }
    if words.count > 11 {
        for kind in [PowerObjectKind.fixed, .variable, .battery, .programmable, .eprAdjustable, .sprAdjustable] {
            _ = try? RequestDataObject(raw: words[11], requesting: kind).encoded()
        }
    }
    return 0
}
