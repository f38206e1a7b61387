/// The bytes a USB bulk transport has been asked to send and has not yet handed to the endpoint,
/// taken out as transfers that coalesce everything queued: several frames waiting (TOKEN frames of
/// several streams, a reply and its DONE) leave in one transfer instead of one each.
///
/// Wire rules (docs/PROTOCOL.md §1.1): a transfer never exceeds `maximumTransfer` (a multiple of
/// the packet size, so only the last transfer of a run can end in a short packet); a transfer that
/// empties the queue and whose length is a multiple of `packetSize` needs a zero-length packet
/// after it, so that a receiver that posted a larger buffer sees the transfer end. A transfer that
/// leaves bytes queued needs none: the next transfer follows at once and fills the receiver's buffer
/// or ends it. Pure value type: the transports keep it behind their lock.
public struct BulkOutQueue: Sendable {
    /// wMaxPacketSize of the OUT (host) or IN (device) endpoint.
    public let packetSize: Int
    /// The largest transfer taken at once, rounded down to a multiple of `packetSize`.
    public let maximumTransfer: Int
    private var messages: [[UInt8]] = []
    /// How much of `messages[0]` earlier transfers already took.
    private var headOffset = 0
    /// Bytes queued and not yet taken.
    public private(set) var count = 0

    /// - Parameters:
    ///   - packetSize: wMaxPacketSize (clamped to at least 8).
    ///   - maximumTransfer: the largest transfer; rounded down to a multiple of the packet size.
    public init(packetSize: Int, maximumTransfer: Int) {
        let packet = max(packetSize, 8)
        self.packetSize = packet
        self.maximumTransfer = max(packet, maximumTransfer / packet * packet)
    }

    public var isEmpty: Bool { count == 0 }

    /// Queues `bytes` (a whole message, or a part of one) behind what is already queued.
    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        messages.append(bytes)
        count += bytes.count
    }

    /// Takes the next transfer: the queued bytes in order, across message boundaries, up to
    /// `maximumTransfer`. Nil when nothing is queued.
    public mutating func nextTransfer() -> BulkTransfer? {
        guard count > 0 else { return nil }
        let length = min(count, maximumTransfer)
        var bytes: [UInt8]
        if headOffset == 0 && messages[0].count == length {
            bytes = messages.removeFirst()  // the common case of one message: no copy
        } else {
            bytes = []
            bytes.reserveCapacity(length)
            var consumed = 0
            while bytes.count < length {
                let head = messages[consumed]
                let take = min(head.count - headOffset, length - bytes.count)
                bytes.append(contentsOf: head[headOffset..<(headOffset + take)])
                headOffset += take
                if headOffset == head.count {
                    consumed += 1
                    headOffset = 0
                }
            }
            messages.removeFirst(consumed)
        }
        count -= length
        return BulkTransfer(bytes: bytes, needsZeroLengthPacket: count == 0 && length % packetSize == 0)
    }

    /// Drops everything queued (the link broke or the transport closed).
    public mutating func removeAll() {
        messages = []
        headOffset = 0
        count = 0
    }
}

/// One bulk transfer taken from a `BulkOutQueue`.
public struct BulkTransfer: Sendable, Equatable {
    /// The bytes, in wire order.
    public var bytes: [UInt8]
    /// Whether a zero-length packet must follow (the transfer ends the queued bytes on a packet boundary).
    public var needsZeroLengthPacket: Bool

    public init(bytes: [UInt8], needsZeroLengthPacket: Bool) {
        self.bytes = bytes
        self.needsZeroLengthPacket = needsZeroLengthPacket
    }
}
