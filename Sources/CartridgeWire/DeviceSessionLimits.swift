/// The device's side of the limits negotiated by HELLO.
public struct DeviceSessionLimits: Hashable, Sendable {
    /// Protocol versions this device speaks.
    public var supportedVersions: ClosedRange<UInt16>
    /// The largest payload the device accepts and sends.
    public var maximumPayloadLength: UInt32
    /// Requests that may be in flight at once on one connection.
    public var maximumRequestsInFlight: Int

    /// Payload limit before HELLO has been answered.
    public static let handshakePayloadLength: UInt32 = 65536
    /// The smallest limit a host may ask for.
    public static let minimumPayloadLength: UInt32 = 1024
    public static let standard = DeviceSessionLimits(
        supportedVersions: 1...1, maximumPayloadLength: 1 << 20, maximumRequestsInFlight: 16)

    public init(supportedVersions: ClosedRange<UInt16>, maximumPayloadLength: UInt32, maximumRequestsInFlight: Int) {
        self.supportedVersions = supportedVersions
        self.maximumPayloadLength = maximumPayloadLength
        self.maximumRequestsInFlight = maximumRequestsInFlight
    }
}
