/// Bytes a transport read beyond what `receive(maximumCount:)` asked for, kept for the next call.
/// USB transports must read whole packets (a read smaller than wMaxPacketSize can overflow), so a
/// read may return more than the caller wants.
public struct ReceiveLeftover: Sendable {
    private var bytes: [UInt8] = []

    public init() {}

    /// Up to `maximumCount` kept bytes (removed from the buffer), or nil when nothing is kept.
    public mutating func take(upTo maximumCount: Int) -> [UInt8]? {
        guard !bytes.isEmpty else { return nil }
        let count = min(maximumCount, bytes.count)
        defer { bytes.removeFirst(count) }
        return Array(bytes[..<count])
    }

    /// The first `maximumCount` bytes of a fresh read; the rest is kept for later.
    public mutating func split(_ read: [UInt8], maximumCount: Int) -> [UInt8] {
        guard read.count > maximumCount else { return read }
        bytes.append(contentsOf: read[maximumCount...])
        return Array(read[..<maximumCount])
    }
}
