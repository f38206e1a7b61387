/// An activation vector quantized to 8-bit blocks of 32 for the integer dot kernels (llama.cpp's
/// Q8_1 layout, with fp32 scales): block b holds `quants[32b ..< 32b+32]` (int8, |q| ≤ 127),
/// `scales[b]` = max|x|/127 over the block (0 for an all-zero block) and `sums[b]` =
/// `scales[b]` · Σ quants of the block (what the offset terms of Q4_1/Q5_1/Q4_K/Q5_K need).
/// The block then stands for x[i] ≈ scales[b] · quants[i].
///
/// A non-owning view of three buffers, like `UnsafeMutableBufferPointer`: create one per
/// workspace with `allocate(capacity:)`, fill it with `GGMLKernels.quantize` once per matrix
/// (every row of the matrix reads it), and `deallocate()` it when the workspace goes away.
/// Reading it from several threads at once is fine; quantizing into it while a kernel reads it
/// is a data race, as with any buffer.
public struct QuantizedActivation: @unchecked Sendable {
    /// Elements per block (the activation blocks of 32 line up with every weight type's blocks
    /// or sub-blocks).
    public static let blockSize = 32

    /// Elements the buffers hold (a multiple of 32).
    public let capacity: Int
    /// `capacity` int8 quants, 32-byte aligned.
    public let quants: UnsafeMutablePointer<Int8>
    /// `capacity / 32` block scales.
    public let scales: UnsafeMutablePointer<Float>
    /// `capacity / 32` block sums (scale · Σ quants).
    public let sums: UnsafeMutablePointer<Float>

    /// Wraps caller-owned buffers (`quants` of `capacity` bytes, `scales` and `sums` of
    /// `capacity / 32` floats each); `capacity` must be a multiple of 32.
    public init(capacity: Int, quants: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>) {
        precondition(capacity >= 0 && capacity % Self.blockSize == 0, "QuantizedActivation capacity \(capacity) is not a multiple of 32")
        self.capacity = capacity
        self.quants = quants
        self.scales = scales
        self.sums = sums
    }

    /// Allocates zeroed buffers for `capacity` elements (rounded up to a multiple of 32).
    public static func allocate(capacity: Int) -> QuantizedActivation {
        precondition(capacity >= 0, "QuantizedActivation capacity \(capacity) is negative")
        let rounded = (capacity + blockSize - 1) / blockSize * blockSize
        let blocks = rounded / blockSize
        let quants = UnsafeMutableRawPointer.allocate(byteCount: max(rounded, 1), alignment: 64)
        quants.initializeMemory(as: Int8.self, repeating: 0, count: max(rounded, 1))
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(2 * blocks, 1))
        floats.initialize(repeating: 0, count: max(2 * blocks, 1))
        return QuantizedActivation(
            capacity: rounded, quants: quants.assumingMemoryBound(to: Int8.self), scales: floats, sums: floats + blocks
        )
    }

    /// Frees buffers made by `allocate(capacity:)` (not caller-owned ones passed to `init`).
    public func deallocate() {
        UnsafeMutableRawPointer(quants).deallocate()
        scales.deallocate()
    }

    /// The value block element `index` stands for: scales[index / 32] · quants[index].
    public func value(at index: Int) -> Float {
        precondition(index >= 0 && index < capacity, "index \(index) outside 0..<\(capacity)")
        return scales[index / Self.blockSize] * Float(quants[index])
    }
}
