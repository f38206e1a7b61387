/// HELLO_REPLY (0x81), device to host: the chosen version and the limits both sides now obey.
public struct HelloReply: WireMessage {
    public static let frameType = FrameType.helloReply
    public var version: UInt16
    /// min(host's, device's): no frame in either direction may carry a longer payload.
    public var maximumPayloadLength: UInt32
    public var capabilities: Capabilities
    /// Requests that may be in flight at once on this connection.
    public var maximumRequestsInFlight: UInt16
    public var deviceName: String
    /// SHA-256 of the cartridge image (32 bytes), the model's identity.
    public var imageDigest: [UInt8]

    public init(
        version: UInt16, maximumPayloadLength: UInt32, capabilities: Capabilities, maximumRequestsInFlight: UInt16,
        deviceName: String, imageDigest: [UInt8]
    ) {
        self.version = version
        self.maximumPayloadLength = maximumPayloadLength
        self.capabilities = capabilities
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.deviceName = deviceName
        self.imageDigest = imageDigest
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        version = try reader.readUInt16("version")
        maximumPayloadLength = try reader.readUInt32("maximum_payload")
        capabilities = Capabilities(rawValue: try reader.readUInt32("capabilities"))
        maximumRequestsInFlight = try reader.readUInt16("maximum_in_flight")
        deviceName = try reader.readString("device_name")
        imageDigest = try reader.readBytes("image_digest")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(version)
        writer.write(maximumPayloadLength)
        writer.write(capabilities.rawValue)
        writer.write(maximumRequestsInFlight)
        writer.write(deviceName)
        writer.write(bytes: imageDigest)
    }
}
