#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The fp32 accumulators of one weight row against up to four activation columns (the VNNI form
/// of CartridgeGGML's `WideColumnAccumulators`): each unpacked block of 32 weights is multiplied
/// with every column's quants by `vpmaddwd` + `vpdpwssd`, converted once and FMA'd with the
/// weight scale × that column's block scale. Unused columns repeat column 0 (computed, not
/// stored).
struct VNNIColumnAccumulators {
    let c0, c1, c2, c3: WideColumn
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
    var off0: Float = 0, off1: Float = 0, off2: Float = 0, off3: Float = 0

    @inline(__always)
    init(_ group: WideColumnGroup) {
        c0 = group.c0
        c1 = group.c1
        c2 = group.c2
        c3 = group.c3
    }

    @inline(__always)
    mutating func add(even: __m256i, odd: __m256i, block: Int, weightScale: Float) {
        let x = block &* 64
        VNNIKernels.accumulate(&acc0, VNNIKernels.blockDot(even: even, odd: odd, c0.quants + x), weightScale * c0.scales[block])
        VNNIKernels.accumulate(&acc1, VNNIKernels.blockDot(even: even, odd: odd, c1.quants + x), weightScale * c1.scales[block])
        VNNIKernels.accumulate(&acc2, VNNIKernels.blockDot(even: even, odd: odd, c2.quants + x), weightScale * c2.scales[block])
        VNNIKernels.accumulate(&acc3, VNNIKernels.blockDot(even: even, odd: odd, c3.quants + x), weightScale * c3.scales[block])
    }

    @inline(__always)
    mutating func addOffset(_ offset: Float, block: Int) {
        off0 += offset * c0.sums[block]
        off1 += offset * c1.sums[block]
        off2 += offset * c2.sums[block]
        off3 += offset * c3.sums[block]
    }

    @inline(__always)
    func store(into out: UnsafeMutablePointer<Float>, stride: Int, columns: Int) {
        out[0] = VNNIKernels.horizontalSum(acc0) + off0
        if columns > 1 { out[stride] = VNNIKernels.horizontalSum(acc1) + off1 }
        if columns > 2 { out[2 &* stride] = VNNIKernels.horizontalSum(acc2) + off2 }
        if columns > 3 { out[3 &* stride] = VNNIKernels.horizontalSum(acc3) + off3 }
    }
}
#endif
