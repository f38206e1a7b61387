public import CartridgeClient

/// What `cartridge serve` was asked to do.
public struct GatewayConfiguration: Sendable {
    /// Address to listen on; loopback by default. Port 0 picks a free port (see `Gateway.onListening`).
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Cartridges to connect to (and reconnect to when they come back).
    public var cartridges: [CartridgeURI] = []
    /// Follow USB hotplug: cartridges plugged in join the pool, unplugged ones leave. Each stick
    /// is keyed by its bus/port path (`usb@1-1.2`), so sticks burned from the same image (which
    /// share a serial) are served side by side.
    public var usbDiscovery: Bool = true
    /// Replaces the USB scanner (tests: an in-memory bus over Unix sockets).
    var scanner: (any CartridgeScanner)?
    /// When set, every route but /health needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Origins allowed to call from a browser (CORS); empty: no CORS headers at all. "*" allows any.
    public var corsOrigins: [String] = []
    /// Largest request body accepted; larger ones are answered 413.
    public var maximumBodyBytes: Int = 4 << 20
    /// Requests in flight per cartridge.
    public var requestsPerCartridge: Int = 4
    /// Requests waiting for a cartridge; more are answered 429 with Retry-After.
    public var queueLimit: Int = 64
    /// Longest wait in the queue before 503.
    public var queueTimeout: Duration = .seconds(60)
    /// Streamed answers are written at most once per this interval: tokens that arrive within it
    /// go out together (one HTTP chunk), at most this late; a cartridge slower than one token per
    /// interval has each token written as it arrives. Zero writes every token alone.
    public var streamWriteInterval: Duration = .milliseconds(10)
    /// How often each cartridge's health is checked (PING): a dead one leaves `/v1/models` within this.
    public var healthInterval: Duration = .milliseconds(500)

    public init() {}
}
