/// Reads the protocol's primitive types from a payload, bounds-checked: a field that runs past
/// the end is `WireError.truncated`, never an out-of-bounds read.
public struct WireReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw WireError(.truncated, "\(field): needs \(count) bytes at offset \(offset), \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    private mutating func integer<Value: FixedWidthInteger>(_ type: Value.Type, _ field: String) throws(WireError) -> Value {
        let slice = try take(MemoryLayout<Value>.size, field)
        var value: Value = 0
        for (shift, byte) in slice.enumerated() { value |= Value(byte) << (shift * 8) }
        return value
    }

    public mutating func readUInt8(_ field: String) throws(WireError) -> UInt8 { try integer(UInt8.self, field) }
    public mutating func readUInt16(_ field: String) throws(WireError) -> UInt16 { try integer(UInt16.self, field) }
    public mutating func readUInt32(_ field: String) throws(WireError) -> UInt32 { try integer(UInt32.self, field) }
    public mutating func readUInt64(_ field: String) throws(WireError) -> UInt64 { try integer(UInt64.self, field) }
    public mutating func readFloat(_ field: String) throws(WireError) -> Float {
        Float(bitPattern: try integer(UInt32.self, field))
    }

    /// A count or length, checked against what is left (each element needs `minimumElementSize` bytes),
    /// so a hostile count cannot make the reader allocate.
    private mutating func readCount(_ field: String, minimumElementSize: Int) throws(WireError) -> Int {
        let count = Int(try readUInt32(field))
        guard count <= remaining / max(1, minimumElementSize) else {
            throw WireError(.tooLarge, "\(field): count \(count) exceeds the \(remaining) bytes left")
        }
        return count
    }

    public mutating func readString(_ field: String) throws(WireError) -> String {
        let count = try readCount(field, minimumElementSize: 1)
        let slice = try take(count, field)
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw WireError(.invalidUTF8, "\(field): not valid UTF-8")
        }
        return text
    }

    public mutating func readBytes(_ field: String) throws(WireError) -> [UInt8] {
        let count = try readCount(field, minimumElementSize: 1)
        return Array(try take(count, field))
    }

    public mutating func readRaw(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        Array(try take(count, field))
    }

    public mutating func readUInt32List(_ field: String) throws(WireError) -> [UInt32] {
        let count = try readCount(field, minimumElementSize: 4)
        var values: [UInt32] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readUInt32(field)) }
        return values
    }

    public mutating func readStringList(_ field: String) throws(WireError) -> [String] {
        let count = try readCount(field, minimumElementSize: 4)
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readString(field)) }
        return values
    }

    public mutating func readFloatList(_ field: String) throws(WireError) -> [Float] {
        let count = try readCount(field, minimumElementSize: 4)
        var values: [Float] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readFloat(field)) }
        return values
    }
}
