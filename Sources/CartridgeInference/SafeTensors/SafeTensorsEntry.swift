/// One tensor listed in a safetensors header: its name, element type, shape and where its bytes are
/// (`byteRange` is relative to the start of the file, already checked to lie inside it).
public struct SafeTensorsEntry: Hashable, Sendable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}
