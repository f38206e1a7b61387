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
    /// Concurrent EMBED requests across all connections; more get BUSY.
    public var maximumConcurrentEmbeds: Int
    /// Open connections across all listeners; a connection past it gets ERROR(BUSY) with id 0 and is closed.
    public var maximumConnections: Int
    /// A connection that has not completed HELLO within this time is closed.
    public var handshakeTimeout: Duration
    /// A connection whose host has not taken a frame for this long has its streams ended with
    /// DONE(stalled) and their generation slots given back.
    public var streamStallTimeout: Duration

    public init(
        limits: DeviceSessionLimits = .standard, maximumConcurrentGenerations: Int = 4,
        maximumSessionsPerConnection: Int = 4, deviceName: String = "cartridged", maximumConcurrentEmbeds: Int = 2,
        maximumConnections: Int = 64, handshakeTimeout: Duration = .seconds(10), streamStallTimeout: Duration = .seconds(10)
    ) {
        self.limits = limits
        self.maximumConcurrentGenerations = maximumConcurrentGenerations
        self.maximumSessionsPerConnection = maximumSessionsPerConnection
        self.deviceName = deviceName
        self.maximumConcurrentEmbeds = maximumConcurrentEmbeds
        self.maximumConnections = maximumConnections
        self.handshakeTimeout = handshakeTimeout
        self.streamStallTimeout = streamStallTimeout
    }
}
