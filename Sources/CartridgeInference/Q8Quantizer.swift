/// Q8_0 quantization of fp32 matrices for burning images or writing v2 checkpoints: per row,
/// groups of `groupSize` consecutive values share one fp32 scale = max|w| / 127, and
/// q = round(w / scale) (half away from zero). Groups never straddle rows, so any group size that
/// divides the row length works, including when the hidden size is not a multiple of the
/// preferred size (runq.c's export picks a size from `dim` only and then misreads `w2`).
public enum Q8Quantizer {
    /// The largest group size ≤ `preferred` that divides every row length (at least 1).
    public static func groupSize(preferred: Int, rowLengths: [Int]) -> Int {
        var size = max(1, preferred)
        while size > 1, !rowLengths.allSatisfy({ $0 % size == 0 }) { size -= 1 }
        return size
    }

    /// Quantizes `values` (row-major, rows of `rowLength`). Returns one int8 per value and one
    /// scale per group.
    public static func quantize(
        _ values: UnsafeBufferPointer<Float>, rowLength: Int, groupSize: Int
    ) throws(InferenceError) -> (quants: [Int8], scales: [Float]) {
        guard rowLength > 0, groupSize > 0, rowLength % groupSize == 0, values.count % rowLength == 0 else {
            throw InferenceError(
                .invalidArgument,
                "cannot quantize \(values.count) values in rows of \(rowLength) with group size \(groupSize): the group size must divide the row length")
        }
        guard let base = values.baseAddress, !values.isEmpty else { return ([], []) }
        var quants = [Int8](repeating: 0, count: values.count)
        var scales = [Float](repeating: 0, count: values.count / groupSize)
        quants.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { s in
                VectorMath.quantize(base, count: values.count, groupSize: groupSize, quants: q.baseAddress!, scales: s.baseAddress!)
            }
        }
        return (quants, scales)
    }
}
