public import CartridgeGGML

/// One tensor to burn: a name, a shape, where its values are, and how to store them.
/// The buffers must stay valid for the duration of `ImageBurner.burn`.
public struct ImageTensorInput {
    public enum Source {
        /// fp32 values, row-major; stored as fp32 or quantized to Q8_0 at burn time.
        case float32(UnsafeBufferPointer<Float>)
        /// fp16 values as raw bit patterns; stored as fp16.
        case float16(UnsafeBufferPointer<UInt16>)
        /// Already quantized Q8_0 values; stored as Q8_0 with the same group size. `scales` holds
        /// one little-endian fp32 per group, at any alignment.
        case q8_0(quants: UnsafeBufferPointer<Int8>, scales: UnsafeRawBufferPointer, groupSize: Int)
        /// ggml blocks (from a GGUF file), stored byte for byte as `ImageTensorType.ggml` of the same type.
        case ggml(GGMLType, blocks: UnsafeRawBufferPointer)
    }

    public var name: String
    public var shape: [Int]
    public var source: Source
    public var storedAs: ImageTensorType

    public init(name: String, shape: [Int], source: Source, storedAs: ImageTensorType) {
        self.name = name
        self.shape = shape
        self.source = source
        self.storedAs = storedAs
    }

    /// fp32 values stored as they are.
    public static func float32(_ name: String, shape: [Int], _ values: UnsafeBufferPointer<Float>) -> ImageTensorInput {
        ImageTensorInput(name: name, shape: shape, source: .float32(values), storedAs: .float32)
    }
}
