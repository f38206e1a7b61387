public import CartridgeWire

/// Tunables of `CartridgeServer`.
public struct ServerConfiguration: Sendable {
    public var limits: DeviceSessionLimits
    /// Concurrent GENERATE streams across all connections; more get BUSY.
    public var maximumConcurrentGenerations: Int
    /// KV-cache sessions a connection may keep.
    public var maximumSessionsPerConnection: Int
    /// Name reported in HELLO_REPLY.
    public var deviceName: String

    public init(
        limits: DeviceSessionLimits = .standard, maximumConcurrentGenerations: Int = 4,
        maximumSessionsPerConnection: Int = 4, deviceName: String = "cartridged"
    ) {
        self.limits = limits
        self.maximumConcurrentGenerations = maximumConcurrentGenerations
        self.maximumSessionsPerConnection = maximumSessionsPerConnection
        self.deviceName = deviceName
    }
}
