#if canImport(Glibc)
import Glibc
#endif
#if arch(x86_64)
import CartridgeGGMLVNNI
#endif

/// A Q4_0, Q4_1, Q5_0, Q8_0, Q4_K or Q6_K matrix repacked at load for the AVX-512 VNNI interleaved kernels
/// (CartridgeGGMLVNNI's `InterleavedKernels`, which document the layout): rows in groups of
/// eight, each group's blocks of 32 with the eight rows' weights interleaved four at a time, so
/// one `vpdpbusd` serves eight rows and a block's scaling serves eight rows. It owns the
/// repacked copy (the same size as the ggml rows); the
/// ggml rows it came from are left as they are (embedding lookups still read them).
///
/// The products equal the row kernels' up to fp32 accumulation order: the integer block sums
/// are the same (the same 16-bit activation quants, split into bytes).
///
/// Built only where those kernels run (`isAvailable`: `KernelInstructionSet.active` is
/// `avx512VNNI` and CARTRIDGE_INTERLEAVE is not 0).
public final class InterleavedMatrix: @unchecked Sendable {
    public let type: GGMLType
    /// Rows (a multiple of 8) and elements per row (a multiple of 32).
    public let rows: Int
    public let count: Int
    /// ggml blocks per row (of 32 elements, of 256 for Q4_K and Q6_K) and repacked bytes per group's block.
    let blocks: Int
    let blockBytes: Int
    /// Bytes of one group of eight rows.
    let groupBytes: Int
    let storage: UnsafeMutableRawPointer
    /// The arena `storage` was carved from (kept alive by this matrix), or nil when it is owned.
    let arena: InterleavedArena?

    /// Whether matrices are repacked (and the activations' byte planes filled) in this process.
    public static let isAvailable: Bool = {
        guard KernelInstructionSet.active == .avx512VNNI else { return false }
        if let value = getenv("CARTRIDGE_INTERLEAVE"), String(cString: value) == "0" { return false }
        return true
    }()

    /// Repacked bytes per group's ggml block (of 32, or of 256 for Q4_K and Q6_K) for `type`, or nil for a
    /// type without interleaved kernels.
    public static func blockBytes(of type: GGMLType) -> Int? {
        #if arch(x86_64)
        switch type {
        case .q4_0: InterleavedKernels.q4_0BlockBytes
        case .q4_1: InterleavedKernels.q4_1BlockBytes
        case .q5_0: InterleavedKernels.q5_0BlockBytes
        case .q8_0: InterleavedKernels.q8_0BlockBytes
        case .q4_K: InterleavedKernels.q4_KBlockBytes
        case .q6_K: InterleavedKernels.q6_KBlockBytes
        default: nil
        }
        #else
        nil
        #endif
    }

    /// Repacks `rows` ggml rows of `count` elements at `source` (rows back to back, as in a GGUF
    /// data section), or returns nil when the interleaved kernels do not run here or do not take
    /// this matrix (another type, rows not a multiple of 8, count not a whole number of blocks).
    public convenience init?(type: GGMLType, rows: Int, count: Int, source: UnsafeRawPointer, arena: InterleavedArena? = nil) {
        guard Self.isAvailable else { return nil }
        self.init(repacking: type, rows: rows, count: count, source: source, arena: arena)
    }

    /// The bytes the repacked copy of such a matrix takes, or nil when it would not be repacked
    /// (for sizing an `InterleavedArena`).
    public static func repackedByteCount(type: GGMLType, rows: Int, count: Int) -> Int? {
        guard let blockBytes = blockBytes(of: type), let layout = type.layout, rows > 0, rows % 8 == 0, count > 0,
            count % layout.blockSize == 0
        else { return nil }
        return rows / 8 * (count / layout.blockSize) * blockBytes
    }

    /// As `init?(type:rows:count:source:)` without asking `isAvailable` (tests repack on any
    /// CPU; only `multiply` needs the VNNI one). The copy is carved from `arena` when it has
    /// room, else allocated.
    public init?(repacking type: GGMLType, rows: Int, count: Int, source: UnsafeRawPointer, arena: InterleavedArena? = nil) {
        guard let blockBytes = Self.blockBytes(of: type), let layout = type.layout, rows > 0, rows % 8 == 0, count > 0,
            count % layout.blockSize == 0
        else { return nil }
        self.type = type
        self.rows = rows
        self.count = count
        blocks = count / layout.blockSize
        self.blockBytes = blockBytes
        groupBytes = blocks * blockBytes
        if let arena, let memory = arena.take(rows / 8 * groupBytes) {
            storage = memory  // fresh anonymous pages: zero
            self.arena = arena
        } else {
            storage = UnsafeMutableRawPointer.allocate(byteCount: rows / 8 * groupBytes, alignment: 64)
            storage.initializeMemory(as: UInt8.self, repeating: 0, count: rows / 8 * groupBytes)
            self.arena = nil
        }
        Self.repack(type, rows: rows, blocks: blocks, source: source, into: storage, blockBytes: blockBytes)
    }

    deinit { if arena == nil { storage.deallocate() } }

    /// Bytes of the repacked copy.
    public var byteCount: Int { rows / 8 * groupBytes }

    /// out[c · stride + (r − 8 · groups.lowerBound)] = row r · activation c, for the rows r of
    /// groups (of eight rows) and c in 0..<columns; the activations hold this matrix's input
    /// quantized by `GGMLKernels.quantize` (planes filled), at least `count` elements each.
    /// Several columns go through the weights a tile of groups at a time (about `tileBytes`), four
    /// columns per pass, so the tile stays in the L1 cache while every column meets it.
    public func multiply(
        groups: Range<Int>, activations: UnsafePointer<WideQuantizedActivation>, columns: Int, into out: UnsafeMutablePointer<Float>,
        stride: Int, tileBytes: Int = 16 * 1024
    ) {
        precondition(groups.lowerBound >= 0 && groups.upperBound <= rows / 8, "InterleavedMatrix.multiply: groups \(groups) outside 0..<\(rows / 8)")
        precondition(columns >= 1, "InterleavedMatrix.multiply: \(columns) columns")
        for c in 0..<columns {
            precondition(count <= activations[c].capacity, "InterleavedMatrix.multiply: count \(count) exceeds the activation capacity \(activations[c].capacity)")
        }
        #if arch(x86_64)
        precondition(KernelInstructionSet.active == .avx512VNNI, "InterleavedMatrix.multiply needs the AVX-512 VNNI kernels")
        let kernel: (UnsafeRawPointer, WideColumnGroup, Int, UnsafeMutablePointer<Float>, Int) -> Void
        switch type {
        case .q4_0: kernel = InterleavedKernels.rowsQ4_0
        case .q4_1: kernel = InterleavedKernels.rowsQ4_1
        case .q5_0: kernel = InterleavedKernels.rowsQ5_0
        case .q4_K: kernel = InterleavedKernels.rowsQ4_K
        case .q6_K: kernel = InterleavedKernels.rowsQ6_K
        default: kernel = InterleavedKernels.rowsQ8_0
        }
        let tile = columns <= GGMLKernels.columnGroupSize ? groups.count : max(1, tileBytes / groupBytes)
        var start = groups.lowerBound
        while start < groups.upperBound {
            let end = min(start + tile, groups.upperBound)
            var column = 0
            while column < columns {
                let width = min(GGMLKernels.columnGroupSize, columns - column)
                let set = WideColumnGroup(count: width) { GGMLKernels.wideColumn(activations[column + $0]) }
                let target = out + column * stride
                for g in start..<end {
                    kernel(storage + g * groupBytes, set, blocks, target + (g - groups.lowerBound) * 8, stride)
                }
                column += width
            }
            start = end
        }
        #else
        preconditionFailure("InterleavedMatrix.multiply needs the AVX-512 VNNI kernels")
        #endif
    }
}
