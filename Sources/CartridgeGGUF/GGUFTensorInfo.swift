import CartridgeGGML

/// A tensor described by a GGUF file: name, shape, element type and where its bytes lie.
public struct GGUFTensorInfo: Sendable, Hashable {
    public var name: String
    /// Sizes in GGUF (ggml) order: `dimensions[0]` is the row length (the fastest-varying index).
    /// Empty for a zero-dimensional (scalar) tensor.
    public var dimensions: [Int]
    public var type: GGMLType
    /// Absolute byte offset of the tensor's data in the file (data section start + stored offset).
    public var offset: Int
    /// Bytes of data: `type.rowByteCount(dimensions[0])` times the number of rows.
    public var byteCount: Int
    /// Product of the dimensions (1 for a scalar).
    public var elementCount: Int

    public init(name: String, dimensions: [Int], type: GGMLType, offset: Int, byteCount: Int, elementCount: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
        self.elementCount = elementCount
    }

    /// Elements per row (`dimensions[0]`, or 1 for a scalar).
    public var rowLength: Int { dimensions.first ?? 1 }

    /// Number of rows (the product of all dimensions but the first).
    public var rowCount: Int { dimensions.count > 1 ? dimensions.dropFirst().reduce(1, *) : 1 }
}
