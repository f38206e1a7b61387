/// HELLO (0x01), host to device: the protocol versions and limits the host accepts.
public struct HelloRequest: WireMessage {
    public static let frameType = FrameType.hello
    public var minimumVersion: UInt16
    public var maximumVersion: UInt16
    /// The largest payload the host is willing to receive.
    public var maximumPayloadLength: UInt32
    public var capabilities: Capabilities
    public var clientName: String

    public init(
        minimumVersion: UInt16 = 1, maximumVersion: UInt16 = 1, maximumPayloadLength: UInt32,
        capabilities: Capabilities = [], clientName: String
    ) {
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.maximumPayloadLength = maximumPayloadLength
        self.capabilities = capabilities
        self.clientName = clientName
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        minimumVersion = try reader.readUInt16("minimum_version")
        maximumVersion = try reader.readUInt16("maximum_version")
        maximumPayloadLength = try reader.readUInt32("maximum_payload")
        capabilities = Capabilities(rawValue: try reader.readUInt32("capabilities"))
        clientName = try reader.readString("client_name")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(minimumVersion)
        writer.write(maximumVersion)
        writer.write(maximumPayloadLength)
        writer.write(capabilities.rawValue)
        writer.write(clientName)
    }
}
