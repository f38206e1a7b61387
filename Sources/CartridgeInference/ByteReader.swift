/// Bounds-checked little-endian reads over a byte buffer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let errorCode: InferenceError.Code
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer, errorCode: InferenceError.Code) {
        self.bytes = bytes
        self.errorCode = errorCode
    }

    var remaining: Int { bytes.count - offset }

    func peekUInt32() -> UInt32? {
        remaining >= 4 ? UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) : nil
    }

    mutating func uint8() throws(InferenceError) -> UInt8 {
        guard remaining >= 1 else { throw truncated("a byte") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws(InferenceError) -> UInt32 {
        guard remaining >= 4 else { throw truncated("an integer") }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func int32() throws(InferenceError) -> Int32 { Int32(bitPattern: try uint32()) }

    mutating func float32() throws(InferenceError) -> Float { Float(bitPattern: try uint32()) }

    mutating func take(_ count: Int, for what: String) throws(InferenceError) -> UnsafeRawPointer {
        guard count >= 0, count <= remaining, let base = bytes.baseAddress else {
            throw truncated("\(count) bytes of '\(what)'")
        }
        defer { offset += count }
        return base + offset
    }

    /// `count` fp32 values; they must be 4-byte aligned in memory.
    mutating func floats(_ count: Int, for what: String) throws(InferenceError) -> UnsafePointer<Float> {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw truncated("\(count) floats of '\(what)'") }
        let start = try take(byteCount, for: what)
        guard Int(bitPattern: start) % 4 == 0 else {
            throw InferenceError(errorCode, "fp32 tensor '\(what)' at offset \(offset - byteCount) is not 4-byte aligned")
        }
        return start.assumingMemoryBound(to: Float.self)
    }

    func truncated(_ what: String) -> InferenceError {
        InferenceError(errorCode, "truncated: needed \(what) at offset \(offset), only \(remaining) bytes left of \(bytes.count)")
    }
}
