public import CartridgeGGML

/// A tensor as stored in a verified image: its table entry and a read-only view of its bytes in
/// the mapping. Aligned to the image's tensor alignment (at least 64 bytes) for SIMD loads.
///
/// `@unchecked Sendable`: `bytes` points into a read-only mapping that `owner` keeps alive.
public struct ImageTensor: @unchecked Sendable {
    public let info: ImageTensorInfo
    /// All bytes of the tensor (for Q8_0: quants, padding, scales).
    public let bytes: UnsafeRawBufferPointer
    /// Keeps the mapping alive as long as the view.
    public let owner: VerifiedImage

    /// fp32 tensors: the values.
    public var float32Values: UnsafeBufferPointer<Float>? {
        guard info.type == .float32 else { return nil }
        return bytes.assumingMemoryBound(to: Float.self)
    }

    /// ggml tensors (GGUF models): the type and the blocks, rows back to back.
    public var ggmlBlocks: (type: GGMLType, blocks: UnsafeRawBufferPointer)? {
        info.type.ggmlType.map { ($0, bytes) }
    }

    /// Q8_0 tensors: one int8 per element, then one fp32 scale per group.
    public var q8_0: (quants: UnsafeBufferPointer<Int8>, scales: UnsafeBufferPointer<Float>, groupSize: Int)? {
        guard info.type.isQ8_0 else { return nil }
        let count = info.elementCount
        let scalesOffset = ImageTensorType.q8_0ScalesOffset(elementCount: count)
        let quants = UnsafeRawBufferPointer(rebasing: bytes[0..<count]).assumingMemoryBound(to: Int8.self)
        let scales = UnsafeRawBufferPointer(rebasing: bytes[scalesOffset..<bytes.count]).assumingMemoryBound(to: Float.self)
        return (quants, scales, info.type.groupSize)
    }
}
