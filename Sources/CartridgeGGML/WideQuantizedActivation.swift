/// An activation vector quantized to 16-bit blocks of 32 for the near-exact integer dot kernels:
/// block b holds 32 int16 quants (|q| ≤ `maximumQuant` = 32639) at `quants[32b ..< 32b+32]`,
/// `scales[b]` = max|x|/32639 over the block (0 for an all-zero block) and `sums[b]` = `scales[b]` · Σ quants
/// of the block (what the offset terms of Q4_1/Q5_1/Q4_K/Q5_K need). Element i stands for
/// x[i] ≈ scales[i / 32] · quants[quantIndex(of: i)] (`value(at:)`), with an error of at most
/// scales/2 = max|x_block|/65278: 257 times finer than `QuantizedActivation`'s 8-bit steps
/// (max|x_block|/254), at about the same cost per weight.
///
/// Within a block the quants are stored even elements first: slots 0..<16 hold elements
/// 0, 2, …, 30 and slots 16..<32 elements 1, 3, …, 31. The kernels then unpack weight bytes into
/// 16-bit lanes with shifts and masks alone (a 16-bit lane of packed weight bytes holds an even
/// and an odd element), instead of byte-to-word shuffles.
///
/// `planes` holds the quants split into signed bytes for the interleaved kernels
/// (`InterleavedMatrix`): per block 96 bytes, the 32 quants' low parts lo ∈ −128...127 and high
/// parts hi = (q − lo) / 256, each in quant order (q = 256·hi + lo), then the block's Σ q and
/// the Σ q of its elements 0..<16 and 16..<32, as int32s; `GGMLKernels.quantize` fills them when those kernels run
/// (`InterleavedMatrix.isAvailable`). The largest quant is 32639 rather than 32767 so that every
/// hi fits a signed byte (256·127 + 127 = 32639).
///
/// A non-owning view of four buffers, like `UnsafeMutableBufferPointer`: create one per
/// workspace with `allocate(capacity:)`, fill it with `GGMLKernels.quantize(_:count:into:)` once
/// per matrix (every row of the matrix reads it), and `deallocate()` it when the workspace goes
/// away. Reading it from several threads at once is fine; quantizing into it while a kernel reads
/// it is a data race, as with any buffer.
public struct WideQuantizedActivation: @unchecked Sendable {
    /// Elements per block (the activation blocks of 32 line up with every weight type's blocks
    /// or sub-blocks).
    public static let blockSize = 32
    /// The largest |quant| (the block maximum's quant): 256·127 + 127, so each quant splits into
    /// two signed bytes (`planes`).
    public static let maximumQuant: Int16 = 32639

    /// Elements the buffers hold (a multiple of 32).
    public let capacity: Int
    /// `capacity` int16 quants, in blocks of 32 ordered even elements first (`quantIndex(of:)`),
    /// 64-byte aligned.
    public let quants: UnsafeMutablePointer<Int16>
    /// `capacity / 32` block scales.
    public let scales: UnsafeMutablePointer<Float>
    /// `capacity / 32` block sums (scale · Σ quants).
    public let sums: UnsafeMutablePointer<Float>
    /// `capacity / 32` blocks of 96 bytes: the quants' signed low and high bytes, the int32 sums.
    public let planes: UnsafeMutablePointer<UInt8>

    /// Wraps caller-owned buffers (`quants` of `capacity` int16, `scales` and `sums` of
    /// `capacity / 32` floats each, `planes` of 3 · `capacity` bytes); `capacity` must be a
    /// multiple of 32.
    public init(
        capacity: Int, quants: UnsafeMutablePointer<Int16>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>,
        planes: UnsafeMutablePointer<UInt8>
    ) {
        precondition(capacity >= 0 && capacity % Self.blockSize == 0, "WideQuantizedActivation capacity \(capacity) is not a multiple of 32")
        self.capacity = capacity
        self.quants = quants
        self.scales = scales
        self.sums = sums
        self.planes = planes
    }

    /// Allocates zeroed buffers for `capacity` elements (rounded up to a multiple of 32).
    public static func allocate(capacity: Int) -> WideQuantizedActivation {
        precondition(capacity >= 0, "WideQuantizedActivation capacity \(capacity) is negative")
        let (padded, overflow) = capacity.addingReportingOverflow(blockSize - 1)
        precondition(!overflow, "WideQuantizedActivation capacity \(capacity) is too large")
        let rounded = padded / blockSize * blockSize
        let blocks = rounded / blockSize
        let quantCount = max(rounded, 1)
        let quants = UnsafeMutableRawPointer.allocate(byteCount: quantCount * MemoryLayout<Int16>.stride, alignment: 64)
        let typed = quants.initializeMemory(as: Int16.self, repeating: 0, count: quantCount)
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(2 * blocks, 1))
        floats.initialize(repeating: 0, count: max(2 * blocks, 1))
        let planes = UnsafeMutableRawPointer.allocate(byteCount: max(3 * rounded, 1), alignment: 64)
        let bytes = planes.initializeMemory(as: UInt8.self, repeating: 0, count: max(3 * rounded, 1))
        return WideQuantizedActivation(capacity: rounded, quants: typed, scales: floats, sums: floats + blocks, planes: bytes)
    }

    /// Frees buffers made by `allocate(capacity:)` (not caller-owned ones passed to `init`).
    public func deallocate() {
        UnsafeMutableRawPointer(quants).deallocate()
        scales.deallocate()
        UnsafeMutableRawPointer(planes).deallocate()
    }

    /// The slot of `quants` that holds element `element`: within its block of 32, even elements
    /// take slots 0..<16 and odd ones 16..<32.
    @inline(__always)
    public static func quantIndex(of element: Int) -> Int {
        let inBlock = element & 31
        return (element &- inBlock) &+ ((inBlock & 1) << 4) &+ (inBlock >> 1)
    }

    /// The value element `index` stands for: scales[index / 32] · quants[quantIndex(of: index)].
    public func value(at index: Int) -> Float {
        precondition(index >= 0 && index < capacity, "index \(index) outside 0..<\(capacity)")
        return scales[index / Self.blockSize] * Float(quants[Self.quantIndex(of: index)])
    }
}
