/// The 16-bit extended message header: 15 chunked, 14:11 chunk number, 10 request chunk,
/// 9 reserved, 8:0 data size in bytes. A chunk carries at most 26 bytes.
public struct ExtendedMessageHeader: Hashable, Sendable {
    public static let maximumChunkBytes = 26

    public var isChunked: Bool
    public var chunkNumber: UInt8
    public var isChunkRequest: Bool
    public var dataSize: UInt16

    public init(isChunked: Bool, chunkNumber: UInt8, isChunkRequest: Bool, dataSize: UInt16) {
        self.isChunked = isChunked
        self.chunkNumber = chunkNumber
        self.isChunkRequest = isChunkRequest
        self.dataSize = dataSize
    }

    public init(raw: UInt16) throws(PowerError) {
        let word = UInt32(raw)
        guard !word.bit(9) else { throw PowerError(.malformedMessage, "reserved bit 9 of the extended header is set") }
        isChunked = word.bit(15)
        chunkNumber = UInt8(word.bits(14, 11))
        isChunkRequest = word.bit(10)
        dataSize = UInt16(word.bits(8, 0))
    }

    public func encoded() throws(PowerError) -> UInt16 {
        guard chunkNumber <= 15 else { throw PowerError(.valueOutOfRange, "chunk number \(chunkNumber) (max 15)") }
        guard dataSize <= 511 else { throw PowerError(.valueOutOfRange, "data size \(dataSize) (max 511)") }
        return (isChunked ? 1 << 15 : 0) | UInt16(chunkNumber) << 11 | (isChunkRequest ? 1 << 10 : 0) | dataSize
    }

    /// How many chunks a chunked message of `dataSize` bytes takes.
    public var chunkCount: Int { max(1, (Int(dataSize) + Self.maximumChunkBytes - 1) / Self.maximumChunkBytes) }
}
