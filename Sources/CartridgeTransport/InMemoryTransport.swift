/// An in-memory transport pair, the `NIOEmbedded` of this package: every layer above the wire
/// can be tested without sockets or USB. Each direction holds at most `capacity` bytes, so a
/// side that stops reading stalls the other side's `send`, as a real socket would.
public final class InMemoryTransport: CartridgeTransport {
    private let inbound: InMemoryByteChannel
    private let outbound: InMemoryByteChannel
    public let peerDescription: String

    private init(inbound: InMemoryByteChannel, outbound: InMemoryByteChannel, name: String) {
        self.inbound = inbound
        self.outbound = outbound
        self.peerDescription = name
    }

    /// Two connected ends: what one sends, the other receives.
    public static func makePair(capacity: Int = 64 * 1024) -> (host: InMemoryTransport, device: InMemoryTransport) {
        let hostToDevice = InMemoryByteChannel(capacity: capacity)
        let deviceToHost = InMemoryByteChannel(capacity: capacity)
        let host = InMemoryTransport(inbound: deviceToHost, outbound: hostToDevice, name: "memory:device")
        let device = InMemoryTransport(inbound: hostToDevice, outbound: deviceToHost, name: "memory:host")
        return (host, device)
    }

    public func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        try await inbound.receive(maximumCount: maximumCount)
    }

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        try await outbound.send(bytes)
    }

    public func close() {
        outbound.closeWriter()
        inbound.closeReader()
    }

    /// Simulates an unplug: both ends fail with `.disconnected`.
    public func breakLink() {
        inbound.breakLink()
        outbound.breakLink()
    }
}
