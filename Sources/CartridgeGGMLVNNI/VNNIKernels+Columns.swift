#if arch(x86_64)
import _Builtin_intrinsics.intel

/// One weight row against 1...4 activation columns (a prefill chunk's positions, a decoding
/// step's sequences): each block of 32 weights is unpacked once for all of them. Column c's
/// result equals the one-column dot with column c up to the fp32 accumulation order.
/// `out[c · stride]` receives column c's result, for c in 0..<x.count.
extension VNNIKernels {
    public static func columnsQ8_0(
        _ row: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        var sums = VNNIColumnAccumulators(x)
        for b in 0..<blocks {
            let block = row + b &* 34
            let w = signedPlanes(load256(block + 2))
            sums.add(even: w.even, odd: w.odd, block: b, weightScale: half(block))
        }
        sums.store(into: out, stride: stride, columns: x.count)
    }

    public static func columnsQ4_0(
        _ row: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        var sums = VNNIColumnAccumulators(x)
        let eight = _mm256_set1_epi16(8)
        for b in 0..<blocks {
            let block = row + b &* 18
            let q = nibblePlanes(block + 2)
            sums.add(even: _mm256_sub_epi16(q.even, eight), odd: _mm256_sub_epi16(q.odd, eight), block: b, weightScale: half(block))
        }
        sums.store(into: out, stride: stride, columns: x.count)
    }

    public static func columnsQ4_1(
        _ row: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        var sums = VNNIColumnAccumulators(x)
        for b in 0..<blocks {
            let block = row + b &* 20
            let dm = halfPair(block)
            let q = nibblePlanes(block + 4)
            sums.add(even: q.even, odd: q.odd, block: b, weightScale: dm.0)
            sums.addOffset(dm.1, block: b)
        }
        sums.store(into: out, stride: stride, columns: x.count)
    }

    public static func columnsQ5_0(
        _ row: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        var sums = VNNIColumnAccumulators(x)
        for b in 0..<blocks {
            let block = row + b &* 22
            let w = signedPlanes(q5_0Bytes(nibbles: block + 6, bits: block + 2))
            sums.add(even: w.even, odd: w.odd, block: b, weightScale: half(block))
        }
        sums.store(into: out, stride: stride, columns: x.count)
    }
}
#endif
