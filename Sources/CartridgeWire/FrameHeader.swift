/// The fixed 16-byte frame header, little-endian:
///
/// | offset | size | field          |
/// |--------|------|----------------|
/// | 0      | 4    | magic "CRTG"   |
/// | 4      | 1    | version (1)    |
/// | 5      | 1    | type           |
/// | 6      | 2    | flags          |
/// | 8      | 4    | request id     |
/// | 12     | 4    | payload length |
public struct FrameHeader: Hashable, Sendable {
    /// The bytes 'C' 'R' 'T' 'G' as they appear on the wire.
    public static let magicBytes: [UInt8] = [0x43, 0x52, 0x54, 0x47]
    /// `magicBytes` read as a little-endian UInt32.
    public static let magic: UInt32 = 0x4754_5243
    public static let size = 16
    public static let currentVersion: UInt8 = 1

    public var version: UInt8
    public var type: FrameType
    public var flags: FrameFlags
    public var requestID: UInt32
    public var payloadLength: UInt32

    public init(
        version: UInt8 = FrameHeader.currentVersion, type: FrameType, flags: FrameFlags = [], requestID: UInt32,
        payloadLength: UInt32
    ) {
        self.version = version
        self.type = type
        self.flags = flags
        self.requestID = requestID
        self.payloadLength = payloadLength
    }

    public func encode(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: FrameHeader.magicBytes)
        bytes.append(version)
        bytes.append(type.rawValue)
        bytes.appendLittleEndian(flags.rawValue)
        bytes.appendLittleEndian(requestID)
        bytes.appendLittleEndian(payloadLength)
    }

    /// Reads the fields after the magic; `bytes` must hold at least `size` bytes from `offset`.
    static func parse(_ bytes: [UInt8], at offset: Int) -> FrameHeader {
        FrameHeader(
            version: bytes[offset + 4],
            type: FrameType(bytes[offset + 5]),
            flags: FrameFlags(rawValue: UInt16(bytes[offset + 6]) | UInt16(bytes[offset + 7]) << 8),
            requestID: bytes.readLittleEndianUInt32(at: offset + 8),
            payloadLength: bytes.readLittleEndianUInt32(at: offset + 12)
        )
    }
}

extension Array where Element == UInt8 {
    @inlinable
    mutating func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        var remaining = value.littleEndian
        Swift.withUnsafeBytes(of: &remaining) { self.append(contentsOf: $0) }
    }

    func readLittleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16
            | UInt32(self[offset + 3]) << 24
    }
}
