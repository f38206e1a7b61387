import CartridgeGGML

/// A parsed GGUF file (versions 2 and 3): header, metadata and tensor infos, with tensor data
/// used in place from the caller's bytes.
///
/// The parser validates everything before returning: every field lies inside the buffer, counts
/// are bounded by the bytes left before anything is allocated, tensor types are known, shapes and
/// byte sizes do not overflow, rows are whole blocks, tensor offsets are aligned and their data
/// lies inside the buffer, and keys and tensor names are unique. Tensors may overlap.
///
/// `@unchecked Sendable`: `bytes` is a view into memory the caller keeps alive and unchanged
/// (a read-only mapping) for the lifetime of this value and anything derived from `data(of:)`.
public struct GGUFFile: @unchecked Sendable {
    /// Arrays may nest this deep (an array of arrays is depth 2); deeper files are refused.
    public static let maximumNestingDepth = 16
    /// Alignment of the data section and tensor offsets when `general.alignment` is absent.
    public static let defaultAlignment = 32

    /// The whole file.
    public let bytes: UnsafeRawBufferPointer
    public let version: UInt32
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// Metadata in file order.
    public let metadata: [GGUFMetadataEntry]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Absolute offset of the data section (the aligned end of the tensor infos).
    public let dataOffset: Int

    private let metadataIndex: [String: Int]
    private let tensorIndex: [String: Int]

    /// Parses `bytes`; throws a `GGUFError` naming the first problem and its byte offset.
    public init(bytes: UnsafeRawBufferPointer) throws(GGUFError) {
        self.bytes = bytes
        var reader = GGUFByteReader(bytes: bytes)

        // Header.
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            let printable = withUnsafeBytes(of: magic.littleEndian) { raw in
                raw.allSatisfy { (0x20..<0x7F).contains($0) } ? " ('\(String(decoding: raw, as: UTF8.self))')" : ""
            }
            throw GGUFError(
                .badMagic, "magic is 0x\(String(magic.byteSwapped, radix: 16))\(printable), not \"GGUF\"", offset: 0)
        }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            let message: String
            if version == 1 {
                message = "GGUF version 1 (32-bit counts) is not supported; convert the file to version 3"
            } else if version.byteSwapped == 2 || version.byteSwapped == 3 {
                message = "big-endian GGUF (version \(version.byteSwapped) byte-swapped) is not supported"
            } else {
                message = "GGUF version \(version) is not supported (only 2 and 3)"
            }
            throw GGUFError(.unsupportedVersion, message, offset: 4)
        }
        self.version = version
        let tensorCountOffset = reader.position
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let metadataCountOffset = reader.position
        let metadataCount = try reader.read(UInt64.self, "metadata count")

        // Metadata: each entry is at least a key length (8), a value type (4) and one byte.
        guard metadataCount <= UInt64(reader.remaining / 13) else {
            throw GGUFError(
                .countTooLarge, "metadata count \(metadataCount) cannot fit in the \(reader.remaining) bytes left",
                offset: metadataCountOffset)
        }
        // Tensor infos: each is at least a name length (8), n_dims (4), type (4) and offset (8).
        guard tensorCount <= UInt64(reader.remaining / 24) else {
            throw GGUFError(
                .countTooLarge, "tensor count \(tensorCount) cannot fit in the \(reader.remaining) bytes left",
                offset: tensorCountOffset)
        }
        var metadata: [GGUFMetadataEntry] = []
        metadata.reserveCapacity(Int(metadataCount))
        var metadataIndex: [String: Int] = [:]
        metadataIndex.reserveCapacity(Int(metadataCount))
        var alignment = Self.defaultAlignment
        for _ in 0..<Int(metadataCount) {
            let keyOffset = reader.position
            let key = try reader.readString("metadata key")
            let typeOffset = reader.position
            let type = GGUFValueType(rawValue: try reader.read(UInt32.self, "metadata value type"))
            let value = try Self.readValue(type, typeOffset: typeOffset, depth: 0, reader: &reader)
            guard metadataIndex.updateValue(metadata.count, forKey: key) == nil else {
                throw GGUFError(.duplicateKey, "metadata key '\(key)' appears twice", offset: keyOffset)
            }
            if key == "general.alignment" {
                guard case .uint32(let a) = value, a > 0, a & (a &- 1) == 0 else {
                    throw GGUFError(
                        .invalidAlignment, "general.alignment must be a uint32 power of two, got \(value)",
                        offset: typeOffset)
                }
                alignment = Int(a)
            }
            metadata.append(GGUFMetadataEntry(key: key, value: value))
        }

        // Tensor infos.
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var relativeOffsets: [(value: UInt64, fieldOffset: Int)] = []
        relativeOffsets.reserveCapacity(Int(tensorCount))
        var tensorIndex: [String: Int] = [:]
        tensorIndex.reserveCapacity(Int(tensorCount))
        for _ in 0..<Int(tensorCount) {
            let nameOffset = reader.position
            let name = try reader.readString("tensor name")
            guard tensorIndex.updateValue(tensors.count, forKey: name) == nil else {
                throw GGUFError(.duplicateTensorName, "tensor name '\(name)' appears twice", offset: nameOffset)
            }
            let dimensionCountOffset = reader.position
            let dimensionCount = try reader.read(UInt32.self, "tensor dimension count")
            guard dimensionCount <= 4 else {
                throw GGUFError(
                    .invalidDimensions, "tensor '\(name)' has \(dimensionCount) dimensions (at most 4)",
                    offset: dimensionCountOffset)
            }
            var dimensions: [Int] = []
            dimensions.reserveCapacity(Int(dimensionCount))
            var elementCount = 1
            var rowCount = 1
            for index in 0..<Int(dimensionCount) {
                let dimensionOffset = reader.position
                let raw = try reader.read(UInt64.self, "tensor dimension")
                guard let dimension = Int(exactly: raw), dimension <= Int64.max else {
                    throw GGUFError(
                        .invalidDimensions, "tensor '\(name)' dimension \(index) is \(raw), above Int64.max",
                        offset: dimensionOffset)
                }
                let (elements, elementsOverflow) = elementCount.multipliedReportingOverflow(by: dimension)
                var rowsOverflow = false
                if index > 0 { (rowCount, rowsOverflow) = rowCount.multipliedReportingOverflow(by: dimension) }
                guard !elementsOverflow, !rowsOverflow else {
                    throw GGUFError(
                        .invalidDimensions, "tensor '\(name)' shape \(dimensions + [dimension]) overflows",
                        offset: dimensionOffset)
                }
                elementCount = elements
                dimensions.append(dimension)
            }
            let typeOffset = reader.position
            let type = GGMLType(rawValue: try reader.read(UInt32.self, "tensor type"))
            guard let layout = type.layout else {
                throw GGUFError(
                    .unknownTensorType, "tensor '\(name)' has unknown ggml type id \(type.rawValue)",
                    offset: typeOffset)
            }
            let rowLength = dimensions.first ?? 1
            guard rowLength % layout.blockSize == 0 else {
                throw GGUFError(
                    .invalidRowLength,
                    "tensor '\(name)' row length \(rowLength) is not a multiple of \(type)'s block size "
                        + "\(layout.blockSize)",
                    offset: dimensionCountOffset)
            }
            guard let rowBytes = type.rowByteCount(elements: rowLength) else {
                throw GGUFError(
                    .invalidDimensions, "tensor '\(name)' row of \(rowLength) \(type) elements overflows in bytes",
                    offset: dimensionCountOffset)
            }
            let (byteCount, bytesOverflow) = rowBytes.multipliedReportingOverflow(by: rowCount)
            guard !bytesOverflow else {
                throw GGUFError(
                    .invalidDimensions, "tensor '\(name)' byte size overflows (shape \(dimensions), \(type))",
                    offset: dimensionCountOffset)
            }
            let offsetFieldOffset = reader.position
            let relativeOffset = try reader.read(UInt64.self, "tensor data offset")
            guard relativeOffset % UInt64(alignment) == 0 else {
                throw GGUFError(
                    .misalignedTensor,
                    "tensor '\(name)' offset \(relativeOffset) is not a multiple of the alignment \(alignment)",
                    offset: offsetFieldOffset)
            }
            relativeOffsets.append((relativeOffset, offsetFieldOffset))
            tensors.append(
                GGUFTensorInfo(
                    name: name, dimensions: dimensions, type: type, offset: 0, byteCount: byteCount,
                    elementCount: elementCount))
        }

        // Data section: starts at the aligned end of the infos (no overflow: position <= count
        // and alignment <= 2^31).
        let dataOffset = (reader.position + alignment - 1) / alignment * alignment
        for index in tensors.indices {
            let (relative, fieldOffset) = relativeOffsets[index]
            let byteCount = tensors[index].byteCount
            guard dataOffset <= bytes.count, relative <= UInt64(bytes.count - dataOffset),
                byteCount <= bytes.count - dataOffset - Int(relative)
            else {
                throw GGUFError(
                    .tensorOutOfBounds,
                    "tensor '\(tensors[index].name)' data (offset \(relative) + \(byteCount) bytes after the data "
                        + "section at \(dataOffset)) lies outside the \(bytes.count)-byte file",
                    offset: fieldOffset)
            }
            tensors[index].offset = dataOffset + Int(relative)
        }

        self.alignment = alignment
        self.metadata = metadata
        self.metadataIndex = metadataIndex
        self.tensors = tensors
        self.tensorIndex = tensorIndex
        self.dataOffset = dataOffset
    }

    /// The value of metadata `key`, or nil.
    public subscript(key: String) -> GGUFValue? {
        metadataIndex[key].map { metadata[$0].value }
    }

    /// The tensor info named `name`, or nil.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes, in place in the caller's buffer. `tensor` must come from this file
    /// (a range outside the buffer is a programmer error and traps).
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(
            tensor.offset >= 0 && tensor.byteCount >= 0 && tensor.offset <= bytes.count
                && tensor.byteCount <= bytes.count - tensor.offset,
            "tensor '\(tensor.name)' does not lie inside this GGUF file")
        return UnsafeRawBufferPointer(rebasing: bytes[tensor.offset..<tensor.offset + tensor.byteCount])
    }

    // MARK: - Values

    private static func readValue(
        _ type: GGUFValueType, typeOffset: Int, depth: Int, reader: inout GGUFByteReader
    ) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, "uint8 value"))
        case .int8: return .int8(try reader.read(Int8.self, "int8 value"))
        case .uint16: return .uint16(try reader.read(UInt16.self, "uint16 value"))
        case .int16: return .int16(try reader.read(Int16.self, "int16 value"))
        case .uint32: return .uint32(try reader.read(UInt32.self, "uint32 value"))
        case .int32: return .int32(try reader.read(Int32.self, "int32 value"))
        case .float32: return .float32(Float(bitPattern: try reader.read(UInt32.self, "float32 value")))
        case .bool: return .bool(try reader.read(UInt8.self, "bool value") != 0)
        case .string: return .string(try reader.readString("string value"))
        case .uint64: return .uint64(try reader.read(UInt64.self, "uint64 value"))
        case .int64: return .int64(try reader.read(Int64.self, "int64 value"))
        case .float64: return .float64(Double(bitPattern: try reader.read(UInt64.self, "float64 value")))
        case .array: return try readArray(typeOffset: typeOffset, depth: depth + 1, reader: &reader)
        default:
            throw GGUFError(.unknownValueType, "unknown metadata value type id \(type.rawValue)", offset: typeOffset)
        }
    }

    private static func readArray(typeOffset: Int, depth: Int, reader: inout GGUFByteReader) throws(GGUFError)
        -> GGUFValue
    {
        guard depth <= maximumNestingDepth else {
            throw GGUFError(
                .nestingTooDeep, "arrays nested deeper than \(maximumNestingDepth) levels", offset: typeOffset)
        }
        let elementTypeOffset = reader.position
        let elementType = GGUFValueType(rawValue: try reader.read(UInt32.self, "array element type"))
        guard let minimumSize = elementType.minimumEncodedSize else {
            throw GGUFError(
                .unknownValueType, "unknown array element type id \(elementType.rawValue)", offset: elementTypeOffset)
        }
        let countOffset = reader.position
        let count = try reader.read(UInt64.self, "array count")
        guard count <= UInt64(reader.remaining / minimumSize) else {
            throw GGUFError(
                .countTooLarge,
                "array of \(count) \(elementType) values cannot fit in the \(reader.remaining) bytes left",
                offset: countOffset)
        }
        var elements: [GGUFValue] = []
        elements.reserveCapacity(Int(count))
        switch elementType {
        case .string:
            for _ in 0..<Int(count) { elements.append(.string(try reader.readString("string array element"))) }
        case .array:
            for _ in 0..<Int(count) {
                let innerOffset = reader.position
                elements.append(try readArray(typeOffset: innerOffset, depth: depth + 1, reader: &reader))
            }
        default:
            // Fixed-size scalars: the count check above proved they all fit.
            for _ in 0..<Int(count) {
                elements.append(
                    try readValue(elementType, typeOffset: elementTypeOffset, depth: depth, reader: &reader))
            }
        }
        return .array(elements)
    }
}
