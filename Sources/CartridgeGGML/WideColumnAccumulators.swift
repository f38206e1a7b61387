#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The running sums of one weight row dotted with up to four activation columns at once (the
/// multi-column wide kernels, `GGMLKernels.dot(_:row:wideActivations:columns:count:into:stride:)`):
/// each unpacked group of 32 weights is multiplied with every column's quants while it sits in
/// registers, so a row's unpacking is paid once per four columns instead of once per column.
///
/// Columns past `columns` alias column 0 (their sums are computed and dropped), so the loop body
/// has no branches. A value type of registers: the optimizer keeps it out of memory.
struct WideColumnAccumulators {
    let q0, q1, q2, q3: UnsafeRawPointer
    let d0, d1, d2, d3: UnsafePointer<Float>
    let s0, s1, s2, s3: UnsafePointer<Float>
    var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
    var off0: Float = 0, off1: Float = 0, off2: Float = 0, off3: Float = 0

    @inline(__always)
    init(_ a: UnsafePointer<WideQuantizedActivation>, columns: Int) {
        let c0 = a[0]
        let c1 = columns > 1 ? a[1] : c0, c2 = columns > 2 ? a[2] : c0, c3 = columns > 3 ? a[3] : c0
        q0 = UnsafeRawPointer(c0.quants); q1 = UnsafeRawPointer(c1.quants)
        q2 = UnsafeRawPointer(c2.quants); q3 = UnsafeRawPointer(c3.quants)
        d0 = UnsafePointer(c0.scales); d1 = UnsafePointer(c1.scales); d2 = UnsafePointer(c2.scales); d3 = UnsafePointer(c3.scales)
        s0 = UnsafePointer(c0.sums); s1 = UnsafePointer(c1.sums); s2 = UnsafePointer(c2.sums); s3 = UnsafePointer(c3.sums)
    }

    /// Adds the 32 weights of activation block `block` (even and odd elements as 16-bit lanes),
    /// times `weightScale` × each column's block scale.
    @inline(__always)
    mutating func add(even: __m256i, odd: __m256i, block: Int, weightScale: Float) {
        let x = block &* 64
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(GGMLKernels.wideDot(even: even, odd: odd, q0 + x)), _mm256_set1_ps(weightScale * d0[block]), acc0)
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(GGMLKernels.wideDot(even: even, odd: odd, q1 + x)), _mm256_set1_ps(weightScale * d1[block]), acc1)
        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(GGMLKernels.wideDot(even: even, odd: odd, q2 + x)), _mm256_set1_ps(weightScale * d2[block]), acc2)
        acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(GGMLKernels.wideDot(even: even, odd: odd, q3 + x)), _mm256_set1_ps(weightScale * d3[block]), acc3)
    }

    /// Adds `offset` × each column's block sum (the min/offset term of Q4_1, Q5_1, Q4_K, Q5_K).
    @inline(__always)
    mutating func addOffset(_ offset: Float, block: Int) {
        off0 += offset * s0[block]
        off1 += offset * s1[block]
        off2 += offset * s2[block]
        off3 += offset * s3[block]
    }

    /// out[c · stride] = column c's dot, for c in 0..<columns.
    @inline(__always)
    func store(into out: UnsafeMutablePointer<Float>, stride: Int, columns: Int) {
        out[0] = GGMLKernels.horizontalSum(acc0) + off0
        if columns > 1 { out[stride] = GGMLKernels.horizontalSum(acc1) + off1 }
        if columns > 2 { out[2 &* stride] = GGMLKernels.horizontalSum(acc2) + off2 }
        if columns > 3 { out[3 &* stride] = GGMLKernels.horizontalSum(acc3) + off3 }
    }
}
#endif
