/// A bounds-checked little-endian cursor over the file bytes. Every load checks the remaining
/// length first and throws `truncated` naming the field, so no read can leave the buffer.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int

    init(bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    @inline(__always)
    private func require(_ count: Int, _ field: StaticString) throws(GGUFError) {
        guard count <= remaining else {
            throw GGUFError(
                .truncated, "file ends inside \(field) (needs \(count) bytes, \(remaining) left)", offset: position)
        }
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: StaticString) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size, field)
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return value
    }

    /// A u64 length followed by that many bytes, decoded as UTF-8 with replacement.
    mutating func readString(_ field: StaticString) throws(GGUFError) -> String {
        let start = position
        let length = try read(UInt64.self, field)
        guard length <= UInt64(remaining) else {
            throw GGUFError(
                .truncated, "\(field) length \(length) exceeds the \(remaining) bytes left in the file", offset: start)
        }
        let count = Int(length)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<position + count]), as: UTF8.self)
        position += count
        return text
    }
}
