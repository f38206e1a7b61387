/// One entry of the tensor table: a named tensor's type, shape and place in the file.
public struct ImageTensorInfo: Hashable, Sendable {
    public var name: String
    public var type: ImageTensorType
    /// Row-major dimensions, outermost first (`[rows, columns]` for a matrix). Rank 1...4.
    public var shape: [Int]
    /// Absolute file offset of the first byte (a multiple of the tensor alignment).
    public var offset: Int
    /// Exact byte length (see `ImageTensorType`).
    public var length: Int

    public var elementCount: Int { shape.reduce(1, *) }
}
