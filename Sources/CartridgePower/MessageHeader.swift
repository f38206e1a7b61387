/// The 16-bit PD message header: 15 extended, 14:12 number of data objects, 11:9 MessageID,
/// 8 port power role (SOP) or cable plug (SOP'), 7:6 specification revision, 5 port data role,
/// 4:0 message type.
public struct MessageHeader: Hashable, Sendable, CustomStringConvertible {
    public var isExtended: Bool
    public var dataObjectCount: UInt8
    public var messageID: UInt8
    /// Power role on SOP (true = source) or cable plug on SOP'.
    public var powerRoleOrCablePlug: Bool
    /// 0 = 1.0, 1 = 2.0, 2 = 3.x, 3 reserved.
    public var specificationRevision: UInt8
    /// Data role on SOP (true = DFP).
    public var dataRole: Bool
    public var messageType: MessageType

    public init(
        isExtended: Bool = false, dataObjectCount: UInt8, messageID: UInt8, powerRoleOrCablePlug: Bool,
        specificationRevision: UInt8 = 2, dataRole: Bool, messageType: MessageType
    ) {
        self.isExtended = isExtended
        self.dataObjectCount = dataObjectCount
        self.messageID = messageID
        self.powerRoleOrCablePlug = powerRoleOrCablePlug
        self.specificationRevision = specificationRevision
        self.dataRole = dataRole
        self.messageType = messageType
    }

    /// Decodes a header. A specification revision of 11 (reserved) is an error.
    public init(raw: UInt16) throws(PowerError) {
        let word = UInt32(raw)
        isExtended = word.bit(15)
        dataObjectCount = UInt8(word.bits(14, 12))
        messageID = UInt8(word.bits(11, 9))
        powerRoleOrCablePlug = word.bit(8)
        specificationRevision = UInt8(word.bits(7, 6))
        dataRole = word.bit(5)
        messageType = MessageType(UInt8(word.bits(4, 0)))
        guard specificationRevision != 3 else {
            throw PowerError(.malformedMessage, "specification revision field 11b is reserved")
        }
    }

    public func encoded() throws(PowerError) -> UInt16 {
        guard dataObjectCount <= 7 else { throw PowerError(.valueOutOfRange, "\(dataObjectCount) data objects (max 7)") }
        guard messageID <= 7 else { throw PowerError(.valueOutOfRange, "MessageID \(messageID) (max 7)") }
        guard specificationRevision <= 2 else {
            throw PowerError(.valueOutOfRange, "specification revision \(specificationRevision) (0...2)")
        }
        guard messageType.rawValue <= 31 else { throw PowerError(.valueOutOfRange, "message type \(messageType.rawValue) (max 31)") }
        var word: UInt16 = isExtended ? 1 << 15 : 0
        word |= UInt16(dataObjectCount) << 12 | UInt16(messageID) << 9
        word |= (powerRoleOrCablePlug ? 1 << 8 : 0) | UInt16(specificationRevision) << 6
        word |= (dataRole ? 1 << 5 : 0) | UInt16(messageType.rawValue)
        return word
    }

    public var name: String { messageType.name(extended: isExtended, dataObjectCount: Int(dataObjectCount)) }

    public var description: String {
        "\(name) (id \(messageID), \(dataObjectCount) objects, rev \(["1.0", "2.0", "3.x", "?"][Int(specificationRevision)]))"
    }
}
