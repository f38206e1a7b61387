/// POWER_STATUS (0x88), device to host: the power contract and the inference throttle it implies.
/// Sent as the reply to POWER and, for a subscribed POWER request, on every change.
public struct PowerStatus: WireMessage {
    public static let frameType = FrameType.powerStatus
    /// Increases by one with every change of budget or throttle.
    public var sequence: UInt32
    /// Where the budget comes from: "usb-pd", "type-c", "usb-default", "static", "scripted: 45W charger".
    public var source: String
    /// Human-readable state and reason ("contract 9V 3A (PDO 2)", "capability mismatch: ...").
    public var state: String
    /// Raw 32-bit power data objects offered by the source, in object-position order.
    public var offeredObjects: [UInt32]
    /// The same objects in words ("Fixed 9V 3A").
    public var offeredDescriptions: [String]
    /// 1-based object position of the contract, 0 without a PD contract.
    public var contractPosition: UInt8
    public var contractMillivolts: UInt32
    public var contractMilliamps: UInt32
    /// Power the device allows itself.
    public var budgetMilliwatts: UInt32
    /// Inference worker threads allowed.
    public var workerCount: UInt8
    /// Tokens per second cap; 0 means uncapped.
    public var tokensPerSecondCap: Float
    /// The device's estimated draw under this throttle.
    public var estimatedDrawMilliwatts: UInt32
    /// The USB configuration's bMaxPower, in mA.
    public var maxPowerMilliamps: UInt16
    /// The request data object (RDO) the device's policy chose for the contract, as the raw
    /// 32-bit word a sink sends in Request/EPR_Request; 0 without a PD contract. Added after
    /// `max_power_ma`: a payload that ends before it decodes as 0.
    public var requestDataObject: UInt32

    public init(
        sequence: UInt32, source: String, state: String, offeredObjects: [UInt32], offeredDescriptions: [String],
        contractPosition: UInt8, contractMillivolts: UInt32, contractMilliamps: UInt32, budgetMilliwatts: UInt32,
        workerCount: UInt8, tokensPerSecondCap: Float, estimatedDrawMilliwatts: UInt32, maxPowerMilliamps: UInt16,
        requestDataObject: UInt32 = 0
    ) {
        self.sequence = sequence
        self.source = source
        self.state = state
        self.offeredObjects = offeredObjects
        self.offeredDescriptions = offeredDescriptions
        self.contractPosition = contractPosition
        self.contractMillivolts = contractMillivolts
        self.contractMilliamps = contractMilliamps
        self.budgetMilliwatts = budgetMilliwatts
        self.workerCount = workerCount
        self.tokensPerSecondCap = tokensPerSecondCap
        self.estimatedDrawMilliwatts = estimatedDrawMilliwatts
        self.maxPowerMilliamps = maxPowerMilliamps
        self.requestDataObject = requestDataObject
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        sequence = try reader.readUInt32("sequence")
        source = try reader.readString("source")
        state = try reader.readString("state")
        offeredObjects = try reader.readUInt32List("offered_objects")
        offeredDescriptions = try reader.readStringList("offered_descriptions")
        contractPosition = try reader.readUInt8("contract_position")
        contractMillivolts = try reader.readUInt32("contract_mv")
        contractMilliamps = try reader.readUInt32("contract_ma")
        budgetMilliwatts = try reader.readUInt32("budget_mw")
        workerCount = try reader.readUInt8("worker_count")
        tokensPerSecondCap = try reader.readFloat("tokens_per_second_cap")
        estimatedDrawMilliwatts = try reader.readUInt32("estimated_draw_mw")
        maxPowerMilliamps = try reader.readUInt16("max_power_ma")
        requestDataObject = reader.remaining > 0 ? try reader.readUInt32("request_data_object") : 0
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(sequence)
        writer.write(source)
        writer.write(state)
        writer.write(offeredObjects)
        writer.write(offeredDescriptions)
        writer.write(contractPosition)
        writer.write(contractMillivolts)
        writer.write(contractMilliamps)
        writer.write(budgetMilliwatts)
        writer.write(workerCount)
        writer.write(tokensPerSecondCap)
        writer.write(estimatedDrawMilliwatts)
        writer.write(maxPowerMilliamps)
        writer.write(requestDataObject)
    }
}
