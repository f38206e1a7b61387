/// fp32 vectors copied out of a file mapping (the norms), owned here, so that the mapping's
/// pages can all be given back once the matrices are repacked (`LlamaWeights`): a norm read
/// through the mapping every token would fault its page back in, and the kernel maps up to
/// 64 KiB of neighbouring (already repacked) weights with it.
///
/// `@unchecked Sendable`: filled during `LlamaWeights.init` only, read-only afterwards.
final class TensorCopies: @unchecked Sendable {
    private var buffers: [UnsafeMutablePointer<Float>] = []

    /// A copy of values[0..<count] that lives as long as this object.
    func copy(_ values: UnsafePointer<Float>, count: Int) -> UnsafePointer<Float> {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        buffer.initialize(from: values, count: count)
        buffers.append(buffer)
        return UnsafePointer(buffer)
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }
}
