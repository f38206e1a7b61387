/// One protocol frame: header fields plus the payload bytes.
public struct Frame: Hashable, Sendable, CustomStringConvertible {
    public var type: FrameType
    public var flags: FrameFlags
    public var requestID: UInt32
    public var payload: [UInt8]
    public var version: UInt8

    public init(
        type: FrameType, flags: FrameFlags = [], requestID: UInt32, payload: [UInt8] = [],
        version: UInt8 = FrameHeader.currentVersion
    ) {
        self.type = type
        self.flags = flags
        self.requestID = requestID
        self.payload = payload
        self.version = version
    }

    public var header: FrameHeader {
        FrameHeader(
            version: version, type: type, flags: flags, requestID: requestID, payloadLength: UInt32(payload.count))
    }

    /// The frame as it goes on the wire: header then payload.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(FrameHeader.size + payload.count)
        header.encode(into: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }

    public var description: String {
        "\(type) id=\(requestID) flags=0x\(String(flags.rawValue, radix: 16)) payload=\(payload.count)B"
    }
}
