/// Multi-column wide dots: one quantized weight row against several activation columns, for
/// matrix × matrix work (a prefill chunk's positions, a decoding step's sequences). On x86-64
/// each group of 32 weights is unpacked once per four columns (`WideColumnAccumulators`); the
/// portable path calls the one-column kernel per column. Either way column c's result equals
/// `dot(type, row:, wideActivation: activations[c], count:)` up to fp32 rounding of the
/// accumulation order (about 1e-7 relative).
extension GGMLKernels {
    /// The columns one pass of the multi-column kernels handles; callers that tile their loops
    /// for the cache hand them groups of this size.
    public static let columnGroupSize = 4

    /// out[c · stride] = row · activation c for c in 0..<columns (any count ≥ 1; done four at a
    /// time). The row and the activations follow the rules of the one-column
    /// `dot(_:row:wideActivation:count:)`.
    public static func dot(
        _ type: GGMLType, row: UnsafeRawPointer, wideActivations activations: UnsafePointer<WideQuantizedActivation>, columns: Int,
        count: Int, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        precondition(columns >= 1, "GGMLKernels.dot: \(columns) columns")
        #if arch(x86_64)
        var column = 0
        while column < columns {
            let group = min(columnGroupSize, columns &- column)
            let a = activations + column
            precondition(count >= 0 && count <= a[0].capacity, "GGMLKernels.dot: count \(count) exceeds the wide activation capacity \(a[0].capacity)")
            if KernelInstructionSet.active == .avx512VNNI, vnniColumns(type, row, a, columns: group, count: count, into: out + column &* stride, stride: stride) {
                column &+= group
                continue
            }
            let sums: WideColumnAccumulators
            switch type.rawValue {
            case 8: sums = wideColumnsQ8_0AVX2(row, a, columns: group, blocks: checkedBlocks(count, 32, type))
            case 2: sums = wideColumnsQ4_0AVX2(row, a, columns: group, blocks: checkedBlocks(count, 32, type))
            case 3: sums = wideColumnsQ4_1AVX2(row, a, columns: group, blocks: checkedBlocks(count, 32, type))
            case 6: sums = wideColumnsQ5_0AVX2(row, a, columns: group, blocks: checkedBlocks(count, 32, type))
            case 7: sums = wideColumnsQ5_1AVX2(row, a, columns: group, blocks: checkedBlocks(count, 32, type))
            case 12: sums = wideColumnsQ4_KAVX2(row, a, columns: group, superBlocks: checkedBlocks(count, 256, type))
            case 13: sums = wideColumnsQ5_KAVX2(row, a, columns: group, superBlocks: checkedBlocks(count, 256, type))
            case 14: sums = wideColumnsQ6_KAVX2(row, a, columns: group, superBlocks: checkedBlocks(count, 256, type))
            default:
                preconditionFailure("GGMLKernels.dot: \(type) rows are not dotted with a quantized activation")
            }
            for c in 1..<group where a[c].capacity < count {
                preconditionFailure("GGMLKernels.dot: count \(count) exceeds the wide activation capacity \(a[c].capacity)")
            }
            sums.store(into: out + column &* stride, stride: stride, columns: group)
            column &+= group
        }
        #else
        for column in 0..<columns {
            out[column &* stride] = dot(type, row: row, wideActivation: activations[column], count: count)
        }
        #endif
    }

    /// count / blockSize, after checking that count is a whole number of blocks.
    @inline(__always)
    static func checkedBlocks(_ count: Int, _ blockSize: Int, _ type: GGMLType) -> Int {
        precondition(count % blockSize == 0, "GGMLKernels.dot: \(type) row of \(count) elements is not a multiple of \(blockSize)")
        return count / blockSize
    }
}
