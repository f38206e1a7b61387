import CartridgePower
import Testing

@Suite("PDO codec")
struct PowerDataObjectCodecTests {
    @Test("fixed supply matches Linux PDO_FIXED, including PDO 1 flags")
    func fixedMatchesLinux() throws {
        let flags: FixedSupplyFlags = [.dualRolePower, .usbCommunicationCapable, .dualRoleData]
        let pdo = FixedSupplyPDO(millivolts: 5000, maximumMilliamps: 3000, flags: flags)
        let expected = LinuxPD.PDO_FIXED(5000, 3000, LinuxPD.PDO_FIXED_DUAL_ROLE | LinuxPD.PDO_FIXED_USB_COMM | LinuxPD.PDO_FIXED_DATA_SWAP)
        #expect(try pdo.encoded() == expected)
        #expect(try FixedSupplyPDO(millivolts: 5000, maximumMilliamps: 3000).encoded() == 0x0001_912C)
        #expect(FixedSupplyPDO(raw: expected, position: 1) == pdo)
        #expect(FixedSupplyFlags.usbSuspendSupported.rawValue == LinuxPD.PDO_FIXED_SUSPEND)
        #expect(FixedSupplyFlags.unconstrainedPower.rawValue == LinuxPD.PDO_FIXED_EXTPOWER)
        #expect(FixedSupplyFlags.unchunkedExtendedMessages.rawValue == LinuxPD.PDO_FIXED_UNCHUNK_EXT)
        let peak = FixedSupplyPDO(millivolts: 9000, maximumMilliamps: 2220, peakCurrent: 2)
        #expect(try peak.encoded() == LinuxPD.PDO_FIXED(9000, 2220, 2 << LinuxPD.PDO_FIXED_PEAK_CURR_SHIFT))
    }

    @Test("flags are kept only at position 1")
    func flagsOnlyAtPositionOne() {
        let raw: UInt32 = 0x3F80_0000 | 0x0002_D12C
        #expect(FixedSupplyPDO(raw: raw, position: 2).flags.isEmpty)
        #expect(FixedSupplyPDO(raw: raw, position: 1).flags.contains(.eprModeCapable))
        #expect(FixedSupplyPDO(raw: raw, position: 2).millivolts == 9000)
    }

    @Test("variable, battery and PPS match Linux macros")
    func otherTypesMatchLinux() throws {
        #expect(try VariableSupplyPDO(minimumMillivolts: 5000, maximumMillivolts: 12000, maximumMilliamps: 2000).encoded()
            == LinuxPD.PDO_VAR(5000, 12000, 2000))
        #expect(try BatterySupplyPDO(minimumMillivolts: 5000, maximumMillivolts: 20000, maximumMilliwatts: 45000).encoded()
            == LinuxPD.PDO_BATT(5000, 20000, 45000))
        let pps = ProgrammableSupplyAPDO(minimumMillivolts: 3300, maximumMillivolts: 11000, maximumMilliamps: 3000)
        #expect(try pps.encoded() == LinuxPD.PDO_PPS_APDO(3300, 11000, 3000))
        #expect(try pps.encoded() == 0xC0DC_213C)
        #expect(try ProgrammableSupplyAPDO(minimumMillivolts: 3300, maximumMillivolts: 21000, maximumMilliamps: 5000, powerLimited: true)
            .encoded() == LinuxPD.PDO_PPS_APDO(3300, 21000, 5000) | 1 << 27)
    }

    @Test("EPR AVS and SPR AVS bit layouts (PD 3.1 / 3.2)")
    func adjustableLayouts() throws {
        // 11b type, 01b subtype, 25:17 max 280 x 100 mV, 15:8 min 150 x 100 mV, 7:0 140 W.
        let epr = EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 28000, pdpWatts: 140)
        #expect(try epr.encoded() == 0xD230_968C)
        // 48 V needs the 9th voltage bit (480 > 255).
        let wide = EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 240, peakCurrent: 1)
        let wideRaw = try wide.encoded()
        #expect(wideRaw >> 17 & 0x1FF == 480)
        #expect(wideRaw >> 26 & 0x3 == 1)
        #expect(EPRAdjustableAPDO(raw: wideRaw) == wide)
        // 11b type, 10b subtype, 19:10 300 x 10 mA, 9:0 225 x 10 mA.
        let spr = SPRAdjustableAPDO(maximumMilliamps9To15V: 3000, maximumMilliamps15To20V: 2250)
        #expect(try spr.encoded() == 0xE004_B0E1)
        #expect(spr.maximumMilliamps(at: 12000) == 3000)
        #expect(spr.maximumMilliamps(at: 18000) == 2250)
        #expect(spr.maximumMilliamps(at: 5000) == 0)
    }

    static let roundTripObjects: [PowerDataObject] = [
        .fixed(FixedSupplyPDO(millivolts: 5000, maximumMilliamps: 3000, peakCurrent: 1, flags: [.eprModeCapable, .unconstrainedPower])),
        .fixed(FixedSupplyPDO(millivolts: 48000, maximumMilliamps: 5000)),
        .variable(VariableSupplyPDO(minimumMillivolts: 3300, maximumMillivolts: 21000, maximumMilliamps: 1230)),
        .battery(BatterySupplyPDO(minimumMillivolts: 9000, maximumMillivolts: 15000, maximumMilliwatts: 27250)),
        .programmable(ProgrammableSupplyAPDO(minimumMillivolts: 3300, maximumMillivolts: 21000, maximumMilliamps: 6350, powerLimited: true)),
        .eprAdjustable(EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 240, peakCurrent: 3)),
        .sprAdjustable(SPRAdjustableAPDO(maximumMilliamps9To15V: 5000, maximumMilliamps15To20V: 0, peakCurrent: 2)),
        .reservedAugmented(0xF000_1234),
        .empty,
    ]

    @Test("decode(encode(x)) == x for every object kind", arguments: roundTripObjects)
    func roundTrip(object: PowerDataObject) throws {
        let raw = try object.encoded()
        #expect(PowerDataObject(raw: raw, position: 1) == object)
        #expect(try PowerDataObject(raw: raw, position: 1).encoded() == raw)
    }

    @Test("values that do not fit are refused with a message")
    func encodingErrors() {
        #expect(throws: PowerError.self) { try FixedSupplyPDO(millivolts: 5010, maximumMilliamps: 3000).encoded() }
        #expect(throws: PowerError.self) { try FixedSupplyPDO(millivolts: 60000, maximumMilliamps: 3000).encoded() }
        #expect(throws: PowerError.self) { try ProgrammableSupplyAPDO(minimumMillivolts: 3300, maximumMillivolts: 25600, maximumMilliamps: 3000).encoded() }
        #expect(throws: PowerError.self) { try EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 256).encoded() }
        do {
            _ = try FixedSupplyPDO(millivolts: 5010, maximumMilliamps: 3000).encoded()
        } catch {
            #expect(error.code == .valueOutOfRange)
            #expect(error.message.contains("5010"))
        }
    }
}

@Suite("RDO codec")
struct RequestDataObjectCodecTests {
    @Test("fixed, battery and PPS requests match Linux RDO macros")
    func matchesLinux() throws {
        let fixed = RequestDataObject(
            objectPosition: 2, flags: [.usbCommunicationCapable, .noUSBSuspend],
            payload: .current(operatingMilliamps: 2000, maximumMilliamps: 3000))
        #expect(try fixed.encoded() == LinuxPD.RDO_FIXED(2, 2000, 3000, LinuxPD.RDO_USB_COMM | LinuxPD.RDO_NO_SUSPEND))
        let battery = RequestDataObject(objectPosition: 4, flags: [.giveBack], payload: .power(operatingMilliwatts: 15000, maximumMilliwatts: 20000))
        #expect(try battery.encoded() == LinuxPD.RDO_BATT(4, 15000, 20000, LinuxPD.RDO_GIVE_BACK))
        let pps = RequestDataObject(objectPosition: 5, flags: [.capabilityMismatch], payload: .programmable(outputMillivolts: 5000, operatingMilliamps: 3000))
        #expect(try pps.encoded() == LinuxPD.RDO_PROG(5, 5000, 3000, LinuxPD.RDO_CAP_MISMATCH))
        #expect(try RequestDataObject(raw: LinuxPD.RDO_PROG(5, 5000, 3000, LinuxPD.RDO_CAP_MISMATCH), requesting: .programmable) == pps)
    }

    @Test("PD Buddy's fallback request 0x1500280A: PDO 1, 100 mA, Capability Mismatch")
    func pdBuddyFallback() throws {
        let request = try RequestDataObject(raw: 0x1500_280A, requesting: .fixed)
        #expect(request.objectPosition == 1)
        #expect(request.flags == [.capabilityMismatch, .noUSBSuspend])
        #expect(request.payload == .current(operatingMilliamps: 100, maximumMilliamps: 100))
    }

    @Test("EPR object positions 8...11 use the 4-bit field (Linux's 3-bit mask would lose them)", arguments: 8...11)
    func eprPositions(position: Int) throws {
        let request = RequestDataObject(
            objectPosition: UInt8(position), flags: [.eprModeCapable, .usbCommunicationCapable],
            payload: .current(operatingMilliamps: 5000, maximumMilliamps: 5000))
        let raw = try request.encoded()
        #expect(raw >> 28 == UInt32(position))
        #expect(raw & (1 << 22) != 0)
        #expect(RequestDataObject.objectPosition(of: raw) == UInt8(position))
        #expect(try RequestDataObject(raw: raw, requesting: .fixed) == request)
        // Linux RDO_OBJ masks with 0x7: position 8 would become 0 (reserved), 9 would become 1.
        #expect(LinuxPD.RDO_OBJ(UInt32(position)) >> 28 == UInt32(position - 8))
    }

    @Test("reserved positions 0, 14 and 15 are refused", arguments: [0, 14, 15])
    func reservedPositions(position: Int) {
        let raw = UInt32(position) << 28 | 10 << 10 | 10
        #expect(throws: PowerError.self) { try RequestDataObject(raw: raw, requesting: .fixed) }
        let request = RequestDataObject(objectPosition: UInt8(position), flags: [], payload: .current(operatingMilliamps: 100, maximumMilliamps: 100))
        #expect(throws: PowerError.self) { try request.encoded() }
    }

    @Test("AVS request: 25 mV units with the two LSBs zero (100 mV steps)")
    func avsRequest() throws {
        let request = RequestDataObject(objectPosition: 11, flags: [.eprModeCapable], payload: .adjustable(outputMillivolts: 28000, operatingMilliamps: 5000))
        let raw = try request.encoded()
        #expect(raw >> 9 & 0xFFF == 1120)
        #expect(raw & 0x7F == 100)
        #expect(try RequestDataObject(raw: raw, requesting: .eprAdjustable) == request)
        let oddVoltage = RequestDataObject(objectPosition: 11, flags: [], payload: .adjustable(outputMillivolts: 28050, operatingMilliamps: 5000))
        #expect(throws: PowerError.self) { try oddVoltage.encoded() }
        #expect(throws: PowerError.self) { try RequestDataObject(raw: raw | 1 << 9, requesting: .eprAdjustable) }
    }

    @Test("PPS voltage uses bits 20:9 (PD 3.1), beyond Linux's 11-bit mask")
    func ppsWideVoltageField() throws {
        let raw: UInt32 = 3 << 28 | 0x800 << 9 | 20
        let request = try RequestDataObject(raw: raw, requesting: .programmable)
        #expect(request.payload == .programmable(outputMillivolts: 0x800 * 20, operatingMilliamps: 1000))
    }

    @Test("reserved bits in a request are reported")
    func reservedBits() {
        #expect(throws: PowerError.self) { try RequestDataObject(raw: 1 << 28 | 1 << 20 | 10, requesting: .fixed) }
        #expect(throws: PowerError.self) { try RequestDataObject(raw: 1 << 28 | 1 << 7 | 10, requesting: .programmable) }
    }
}

@Suite("Message headers")
struct MessageHeaderTests {
    @Test("header layout matches Linux PD_HEADER")
    func header() throws {
        let header = MessageHeader(
            dataObjectCount: 5, messageID: 3, powerRoleOrCablePlug: true, specificationRevision: 2, dataRole: true,
            messageType: .sourceCapabilities)
        let raw = try header.encoded()
        #expect(raw == LinuxPD.PD_HEADER(type: 1, power: 1, data: 1, rev: 2, id: 3, count: 5, ext: 0))
        #expect(raw == 0x57A1)
        #expect(try MessageHeader(raw: raw) == header)
        #expect(header.name == "Source_Capabilities")
        #expect(try MessageHeader(raw: 0x0041).name == "GoodCRC")
        let epr = MessageHeader(
            isExtended: true, dataObjectCount: 7, messageID: 0, powerRoleOrCablePlug: true, dataRole: false,
            messageType: .eprSourceCapabilities)
        #expect(epr.name == "EPR_Source_Capabilities")
        #expect(try MessageHeader(raw: try epr.encoded()) == epr)
    }

    @Test("reserved revision and out-of-range fields are refused")
    func headerErrors() {
        #expect(throws: PowerError.self) { try MessageHeader(raw: 3 << 6 | 1) }
        let tooMany = MessageHeader(dataObjectCount: 8, messageID: 0, powerRoleOrCablePlug: false, dataRole: false, messageType: .request)
        #expect(throws: PowerError.self) { try tooMany.encoded() }
    }

    @Test("extended header matches Linux PD_EXT_HDR; chunks of 26 bytes")
    func extendedHeader() throws {
        let header = ExtendedMessageHeader(isChunked: true, chunkNumber: 1, isChunkRequest: false, dataSize: 44)
        let raw = try header.encoded()
        #expect(raw == LinuxPD.PD_EXT_HDR(size: 44, request: 0, number: 1, chunked: 1))
        #expect(try ExtendedMessageHeader(raw: raw) == header)
        #expect(header.chunkCount == 2)
        #expect(throws: PowerError.self) { try ExtendedMessageHeader(raw: 1 << 9) }
    }
}

@Suite("Source capabilities checks")
struct SourceCapabilitiesTests {
    @Test("flags outside PDO 1 are masked and noted; the object stays usable")
    func flagsOutsidePositionOne() {
        let caps = SourceCapabilities(rawObjects: [0x0001_912C, 0x0402_D12C])
        let second = caps.objects[1]
        #expect(second.isTrusted)
        #expect(second.issues.count == 1)
        #expect(second.issues[0].message.contains("29...22"))
        #expect(second.object == .fixed(FixedSupplyPDO(millivolts: 9000, maximumMilliamps: 3000)))
    }

    @Test("impossible objects are untrusted")
    func impossibleObjects() {
        let caps = SourceCapabilities(rawObjects: [
            0x0001_912C,
            LinuxPD.PDO_FIXED(28000, 3000, 0),  // 28 V in an SPR position
            LinuxPD.PDO_VAR(12000, 5000, 2000),  // min above max
            LinuxPD.PDO_FIXED(9000, 0, 0),  // 0 A
            0xF000_0000,  // reserved APDO subtype
            try! EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 28000, pdpWatts: 140).encoded(),  // EPR AVS at 6
        ])
        #expect(caps.objects[0].isTrusted)
        for index in 1...5 { #expect(!caps.objects[index].isTrusted, "PDO \(index + 1)") }
        #expect(caps.objects[1].issues.contains { $0.message.contains("above 20V needs EPR") })
    }

    @Test("PDO 1 must be vSafe5V")
    func positionOneMustBe5V() {
        let caps = SourceCapabilities(rawObjects: [LinuxPD.PDO_FIXED(9000, 3000, 0)])
        #expect(!caps.objects[0].isTrusted)
    }

    @Test("EPR list: zero padding at positions 5...7 is silent, positions 8...11 hold EPR objects")
    func eprList() throws {
        let avs = try EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 240).encoded()
        let raws: [UInt32] = [
            0x0081_912C, LinuxPD.PDO_FIXED(9000, 3000, 0), LinuxPD.PDO_FIXED(15000, 3000, 0), LinuxPD.PDO_FIXED(20000, 5000, 0), 0, 0, 0,
            LinuxPD.PDO_FIXED(28000, 5000, 0), LinuxPD.PDO_FIXED(36000, 5000, 0), LinuxPD.PDO_FIXED(48000, 5000, 0), avs,
        ]
        let caps = SourceCapabilities(rawObjects: raws)
        #expect(caps.isEPRModeCapable)
        #expect(caps.allIssues.isEmpty, "\(caps.allIssues)")
        #expect(caps.object(at: 8)?.isEPRPosition == true)
        #expect(caps.object(at: 11)?.object == .eprAdjustable(EPRAdjustableAPDO(minimumMillivolts: 15000, maximumMillivolts: 48000, pdpWatts: 240)))
        #expect(caps.rawObjects == raws)
        let tooMany = SourceCapabilities(rawObjects: raws + [0x0001_912C])
        #expect(tooMany.objects.count == 11)
        #expect(tooMany.issues.count == 1)
    }

    @Test("EPR_Request carries the RDO and a copy of the requested PDO")
    func eprRequest() throws {
        let raws: [UInt32] = [0x0081_912C, 0, 0, 0, 0, 0, 0, LinuxPD.PDO_FIXED(28000, 5000, 0)]
        let caps = SourceCapabilities(rawObjects: raws)
        let request = RequestDataObject(objectPosition: 8, flags: [.eprModeCapable], payload: .current(operatingMilliamps: 3000, maximumMilliamps: 5000))
        let message = EPRRequest(request: request, requestedObject: raws[7])
        let objects = try message.encoded()
        #expect(objects.count == 2)
        #expect(try EPRRequest(objects: objects, offered: caps) == message)
        #expect(throws: PowerError.self) { try EPRRequest(objects: [objects[0], raws[0]], offered: caps) }
        #expect(throws: PowerError.self) { try EPRRequest(objects: [objects[0]], offered: caps) }
    }

    @Test("descriptions are human readable")
    func descriptions() throws {
        #expect(PowerDataObject(raw: 0x0001_912C).description == "Fixed 5V 3A")
        #expect(PowerDataObject(raw: LinuxPD.PDO_FIXED(5000, 900, 0)).description == "Fixed 5V 0.9A")
        #expect(PowerDataObject(raw: 0xC0DC_213C).description == "PPS 3.3V-11V 3A")
        #expect(PowerDataObject(raw: 0xD230_968C).description == "EPR AVS 15V-28V 140W")
    }
}
