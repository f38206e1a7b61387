/// A safetensors file over raw bytes (usually a `MappedFile`): an 8-byte little-endian header length,
/// a JSON header `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}`
/// (plus an optional `__metadata__` object of strings), then the data area.
///
/// Parsing checks everything before any tensor is touched: the header length against the file
/// size, each entry's fields, that `end - begin` equals element count × width (overflow-checked),
/// that every range lies in the data area, and that no two ranges overlap.
public struct SafeTensorsFile: @unchecked Sendable {
    // @unchecked: `bytes` points at immutable memory (a read-only mapping or a buffer) that the
    // owner keeps alive for as long as this value and the tensors read from it are used.
    public let bytes: UnsafeRawBufferPointer
    /// Entries by name.
    public let entries: [String: SafeTensorsEntry]
    /// String metadata from `__metadata__`.
    public let metadata: [String: String]
    /// The header may not be larger than this (the format's own limit is 100 MB).
    public static let maximumHeaderLength = 100_000_000

    public init(bytes: UnsafeRawBufferPointer) throws(InferenceError) {
        self.bytes = bytes
        guard bytes.count >= 8 else {
            throw InferenceError(.malformedCheckpoint, "safetensors: file of \(bytes.count) bytes is shorter than its 8-byte header length")
        }
        let declared = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard declared <= UInt64(Self.maximumHeaderLength), Int(declared) <= bytes.count - 8 else {
            throw InferenceError(
                .malformedCheckpoint, "safetensors: header length \(declared) does not fit in a file of \(bytes.count) bytes")
        }
        let headerLength = Int(declared)
        let header = try JSONParser.parse(
            UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)]), source: "safetensors header",
            errorCode: .malformedCheckpoint)
        guard let members = header.objectValue else {
            throw InferenceError(.malformedCheckpoint, "safetensors: the header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var entries: [String: SafeTensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard let fields = value.objectValue else {
                    throw InferenceError(.malformedCheckpoint, "safetensors: __metadata__ is not an object")
                }
                for (key, field) in fields {
                    guard let text = field.stringValue else {
                        throw InferenceError(.malformedCheckpoint, "safetensors: __metadata__ value '\(key)' is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries[name] = try Self.entry(name: name, value, dataStart: dataStart, dataLength: dataLength)
        }
        let sorted = entries.values.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.byteRange.upperBound > next.byteRange.lowerBound {
            throw InferenceError(.malformedCheckpoint, "safetensors: tensors '\(previous.name)' and '\(next.name)' overlap")
        }
        self.entries = entries
        self.metadata = metadata
    }

    private static func entry(name: String, _ value: JSONValue, dataStart: Int, dataLength: Int) throws(InferenceError) -> SafeTensorsEntry {
        func bad(_ problem: String) -> InferenceError {
            InferenceError(.malformedCheckpoint, "safetensors: tensor '\(name)': \(problem)")
        }
        guard let dtypeName = value["dtype"]?.stringValue else { throw bad("missing or non-string dtype") }
        let dtype = SafeTensorsDType(name: dtypeName)
        guard let width = dtype.byteWidth else { throw bad("unknown dtype \(dtypeName)") }
        guard let shapeValues = value["shape"]?.arrayValue else { throw bad("missing shape") }
        var shape: [Int] = []
        var count = 1
        for dimension in shapeValues {
            guard let size = dimension.integerValue, size >= 0 else { throw bad("shape has a non-integer or negative dimension") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw bad("element count overflows") }
            shape.append(size)
            count = product
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
            let begin = offsets[0].integerValue, let end = offsets[1].integerValue
        else { throw bad("data_offsets is not a pair of integers") }
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw bad("data_offsets [\(begin), \(end)] outside the data area of \(dataLength) bytes")
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, expected == end - begin else {
            throw bad("\(end - begin) data bytes for \(count) elements of \(dtypeName)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end))
    }

    /// The tensor `name` as fp32 with `expectedShape` (if given). F32 data that is 4-byte aligned is
    /// returned as a view into `bytes` (zero copy, `storage` nil); F16/BF16 (or misaligned F32) are
    /// converted into `storage`, which the caller must keep alive as long as the view.
    public func floatTensor(_ name: String, shape expectedShape: [Int]? = nil) throws(InferenceError) -> (view: TensorView, storage: FloatStorage?) {
        guard let entry = entries[name] else {
            throw InferenceError(.invalidTensor, "safetensors: no tensor named '\(name)'")
        }
        if let expectedShape, expectedShape != entry.shape {
            throw InferenceError(.invalidTensor, "safetensors: tensor '\(name)' has shape \(entry.shape), expected \(expectedShape)")
        }
        guard entry.dtype.isFloatingPoint else {
            throw InferenceError(.invalidTensor, "safetensors: tensor '\(name)' has dtype \(entry.dtype), not F32/F16/BF16")
        }
        let count = entry.elementCount
        let source = bytes.baseAddress.map { $0 + entry.byteRange.lowerBound }
        if entry.dtype == .float32, let source, Int(bitPattern: source) % MemoryLayout<Float>.alignment == 0 {
            return (TensorView(.float32(source.assumingMemoryBound(to: Float.self)), shape: entry.shape), nil)
        }
        let storage = FloatStorage(count: count)
        if let source {
            for index in 0..<count {
                storage.pointer[index] =
                    switch entry.dtype {
                    case .float16:
                        Float(Float16(bitPattern: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
                    case .bfloat16:
                        Float(bitPattern: UInt32(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))) << 16)
                    default:
                        Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                    }
            }
        }
        return (TensorView(.float32(UnsafePointer(storage.pointer)), shape: entry.shape), storage)
    }
}

/// fp32 values converted from another element type, owned here and freed on release.
///
/// `@unchecked Sendable`: written only during conversion, before the storage is shared; read-only after.
public final class FloatStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
