/// Bytes a transport has read ahead (transfers completed before anyone asked for them), handed
/// out in order by `receive(maximumCount:)`: one call may return the bytes of several transfers.
/// Pure value type: the transports keep it behind their lock.
public struct ReceivedBytes: Sendable {
    private var chunks: [[UInt8]] = []
    /// How much of `chunks[0]` was already handed out.
    private var headOffset = 0
    /// Bytes held.
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Keeps `bytes` behind what is held (empty chunks, i.e. zero-length packets, are ignored).
    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        count += bytes.count
    }

    /// Up to `maximumCount` held bytes in order (removed), or nil when none are held.
    public mutating func take(upTo maximumCount: Int) -> [UInt8]? {
        guard count > 0, maximumCount > 0 else { return nil }
        let length = min(count, maximumCount)
        var bytes: [UInt8]
        if headOffset == 0 && chunks[0].count == length {
            bytes = chunks.removeFirst()
        } else {
            bytes = []
            bytes.reserveCapacity(length)
            var consumed = 0
            while bytes.count < length {
                let head = chunks[consumed]
                let take = min(head.count - headOffset, length - bytes.count)
                bytes.append(contentsOf: head[headOffset..<(headOffset + take)])
                headOffset += take
                if headOffset == head.count {
                    consumed += 1
                    headOffset = 0
                }
            }
            chunks.removeFirst(consumed)
        }
        count -= length
        return bytes
    }

    /// Drops everything held.
    public mutating func removeAll() {
        chunks = []
        headOffset = 0
        count = 0
    }
}
