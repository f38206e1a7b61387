/// Appends the protocol's primitive types to a payload (PROTOCOL.md "Encoding").
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: UInt8) { bytes.append(value) }
    public mutating func write(_ value: UInt16) { bytes.appendLittleEndian(value) }
    public mutating func write(_ value: UInt32) { bytes.appendLittleEndian(value) }
    public mutating func write(_ value: UInt64) { bytes.appendLittleEndian(value) }
    public mutating func write(_ value: Float) { bytes.appendLittleEndian(value.bitPattern) }

    /// str: u32 byte count, then UTF-8 bytes.
    public mutating func write(_ value: String) {
        let utf8 = Array(value.utf8)
        write(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// bytes: u32 count, then the bytes.
    public mutating func write(bytes value: [UInt8]) {
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// list<u32>: u32 count, then the values.
    public mutating func write(_ values: [UInt32]) {
        write(UInt32(values.count))
        for value in values { write(value) }
    }

    /// list<str>
    public mutating func write(_ values: [String]) {
        write(UInt32(values.count))
        for value in values { write(value) }
    }

    /// list<f32>
    public mutating func write(_ values: [Float]) {
        write(UInt32(values.count))
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for value in values { write(value) }
    }

    /// Raw bytes without a length prefix (fixed-size fields such as a digest).
    public mutating func write(raw value: [UInt8]) { bytes.append(contentsOf: value) }
}
