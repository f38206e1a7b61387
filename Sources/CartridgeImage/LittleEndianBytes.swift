/// Bounds-checked little-endian reads from a byte buffer. Every read checks `offset + size`
/// against the buffer without overflowing; out-of-range reads return nil rather than trapping.
struct LittleEndianBytes {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var count: Int { bytes.count }

    func contains(offset: Int, length: Int) -> Bool {
        guard offset >= 0, length >= 0, offset <= bytes.count else { return false }
        return length <= bytes.count - offset
    }

    func u16(at offset: Int) -> UInt16? {
        guard contains(offset: offset, length: 2) else { return nil }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func u32(at offset: Int) -> UInt32? {
        guard contains(offset: offset, length: 4) else { return nil }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func u64(at offset: Int) -> UInt64? {
        guard contains(offset: offset, length: 8) else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    func slice(offset: Int, length: Int) -> UnsafeRawBufferPointer? {
        guard contains(offset: offset, length: length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    func isZero(offset: Int, length: Int) -> Bool {
        guard let region = slice(offset: offset, length: length) else { return false }
        return region.allSatisfy { $0 == 0 }
    }
}

/// Appends little-endian integers to a byte array.
struct LittleEndianAppender {
    var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func raw(_ value: some Sequence<UInt8>) { bytes += value }
    mutating func zeros(_ count: Int) { bytes += repeatElement(0, count: count) }
}

/// Rounding helpers that report overflow instead of trapping.
enum Alignment {
    /// `value` rounded up to a multiple of `alignment` (a power of two), or nil on overflow.
    static func up(_ value: Int, to alignment: Int) -> Int? {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        guard !overflow, value >= 0 else { return nil }
        return sum & ~(alignment - 1)
    }

    static func isPowerOfTwo(_ value: Int) -> Bool { value > 0 && value & (value - 1) == 0 }
}

/// `Array.withUnsafeBytes` for bodies with typed throws (the standard one rethrows `any Error`).
func withRawBytes<Element, R>(
    _ array: [Element], _ body: (UnsafeRawBufferPointer) throws(ImageError) -> R
) throws(ImageError) -> R {
    let result: Result<R, ImageError> = array.withUnsafeBytes { raw in Result { () throws(ImageError) -> R in try body(raw) } }
    return try result.get()
}
