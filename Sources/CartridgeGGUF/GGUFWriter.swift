import CartridgeGGML

/// Serializes metadata, tensor infos and tensor data into GGUF bytes (little-endian).
///
/// The writer writes what it is given, so tests can build deliberately broken files: it does not
/// check keys or names for duplicates, tensor shapes against data sizes, or the version. The
/// layout alignment is `general.alignment` when that entry is a uint32 power of two, else 32; add
/// the entry yourself to use another alignment. Each tensor's data is placed at the next aligned
/// offset and zero-padded to the alignment; a tensor with an explicit `Tensor.offset` is written
/// with that offset and its data is copied only if it lies inside the data placed so far (for
/// overlapping tensors), so a hostile offset never makes the writer allocate.
public struct GGUFWriter: Sendable {
    /// One tensor to write.
    public struct Tensor: Sendable, Hashable {
        public var name: String
        /// Raw dimensions in GGUF order (`dimensions[0]` is the row length).
        public var dimensions: [UInt64]
        public var type: GGMLType
        public var data: [UInt8]
        /// Offset relative to the data section; nil places the tensor after the previous one.
        public var offset: UInt64?

        public init(name: String, dimensions: [UInt64], type: GGMLType, data: [UInt8], offset: UInt64? = nil) {
            self.name = name
            self.dimensions = dimensions
            self.type = type
            self.data = data
            self.offset = offset
        }
    }

    public var version: UInt32
    public var metadata: [GGUFMetadataEntry] = []
    public var tensors: [Tensor] = []

    public init(version: UInt32 = 3) {
        self.version = version
    }

    /// Appends a metadata entry.
    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append(GGUFMetadataEntry(key: key, value: value))
    }

    /// Appends a tensor placed after the previous one.
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
        let raw = dimensions.map { UInt64(truncatingIfNeeded: $0) }
        tensors.append(Tensor(name: name, dimensions: raw, type: type, data: data))
    }

    /// The alignment the layout uses.
    public var alignment: Int {
        for entry in metadata where entry.key == "general.alignment" {
            if case .uint32(let a) = entry.value, a > 0, a & (a &- 1) == 0 { return Int(a) }
        }
        return GGUFFile.defaultAlignment
    }

    /// The file's bytes. Throws `invalidValue` for an array whose elements are not all of one type.
    public func serialize() throws(GGUFError) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: [0x47, 0x47, 0x55, 0x46])  // "GGUF"
        Self.append(version, to: &out)
        Self.append(UInt64(tensors.count), to: &out)
        Self.append(UInt64(metadata.count), to: &out)
        for entry in metadata {
            Self.append(entry.key, to: &out)
            Self.append(entry.value.valueType.rawValue, to: &out)
            try Self.append(entry.value, key: entry.key, to: &out)
        }

        let alignment = self.alignment
        func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
        var placements: [Int] = []
        var next = 0
        for tensor in tensors {
            let relative = tensor.offset.map { Int(truncatingIfNeeded: $0) } ?? next
            placements.append(relative)
            if tensor.offset == nil { next = aligned(next + tensor.data.count) }
            Self.append(tensor.name, to: &out)
            Self.append(UInt32(tensor.dimensions.count), to: &out)
            for dimension in tensor.dimensions { Self.append(dimension, to: &out) }
            Self.append(tensor.type.rawValue, to: &out)
            Self.append(tensor.offset ?? UInt64(relative), to: &out)
        }
        guard !tensors.isEmpty else { return out }

        let dataStart = aligned(out.count)
        out.append(contentsOf: repeatElement(0, count: dataStart - out.count + next))
        for (tensor, relative) in zip(tensors, placements) where relative >= 0 && relative <= next - tensor.data.count {
            out.replaceSubrange(dataStart + relative..<dataStart + relative + tensor.data.count, with: tensor.data)
        }
        return out
    }

    // MARK: - Encoding

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(_ string: String, to out: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    private static func append(_ value: GGUFValue, key: String, to out: inout [UInt8]) throws(GGUFError) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .array(let elements):
            let elementType = elements.first?.valueType ?? .uint8
            guard elements.allSatisfy({ $0.valueType == elementType }) else {
                throw GGUFError(
                    .invalidValue, "array under key '\(key)' mixes element types (first is \(elementType))", offset: 0)
            }
            append(elementType.rawValue, to: &out)
            append(UInt64(elements.count), to: &out)
            for element in elements { try append(element, key: key, to: &out) }
        }
    }
}
