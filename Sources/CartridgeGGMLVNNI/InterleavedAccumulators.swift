#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The fp32 sums of eight rows against up to four columns: per column, the scaled block sums
/// and (4-bit types) the offset terms m · (the column's block sum), on separate registers so the
/// two FMA chains run side by side.
struct InterleavedAccumulators {
    var s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps()
    var o0 = _mm256_setzero_ps(), o1 = _mm256_setzero_ps(), o2 = _mm256_setzero_ps(), o3 = _mm256_setzero_ps()

    @inline(__always)
    static func step(_ s: inout __m256, _ o: inout __m256, _ column: WideColumn, block: Int, scales: __m256, offsets: __m256?, _ sums: __m256i) {
        s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(scales, _mm256_set1_ps(column.scales[block])), s)
        if let offsets { o = _mm256_fmadd_ps(offsets, _mm256_set1_ps(column.sums[block]), o) }
    }

    /// Adds block `block` for every column of x: `sums(planes)` gives the eight rows' exact
    /// integer sums against the column's byte planes of that block.
    @inline(__always)
    mutating func add(_ x: WideColumnGroup, block: Int, scales: __m256, offsets: __m256?, _ sums: (UnsafeRawPointer) -> __m256i) {
        let p = block &* 96
        Self.step(&s0, &o0, x.c0, block: block, scales: scales, offsets: offsets, sums(x.c0.planes + p))
        if x.count > 1 { Self.step(&s1, &o1, x.c1, block: block, scales: scales, offsets: offsets, sums(x.c1.planes + p)) }
        if x.count > 2 { Self.step(&s2, &o2, x.c2, block: block, scales: scales, offsets: offsets, sums(x.c2.planes + p)) }
        if x.count > 3 { Self.step(&s3, &o3, x.c3, block: block, scales: scales, offsets: offsets, sums(x.c3.planes + p)) }
    }

    /// Adds block `block` for every column of x when its two halves have their own scales:
    /// `sums(planes)` gives the eight rows' exact integer sums of elements 0..<16 and 16..<32.
    @inline(__always)
    mutating func addHalves(_ x: WideColumnGroup, block: Int, scalesA: __m256, scalesB: __m256, _ sums: (UnsafeRawPointer) -> (__m256i, __m256i)) {
        let p = block &* 96
        @inline(__always) func step(_ s: inout __m256, _ o: inout __m256, _ column: WideColumn) {
            let (a, b) = sums(column.planes + p)
            let scale = _mm256_set1_ps(column.scales[block])
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), _mm256_mul_ps(scalesA, scale), s)
            o = _mm256_fmadd_ps(_mm256_cvtepi32_ps(b), _mm256_mul_ps(scalesB, scale), o)
        }
        step(&s0, &o0, x.c0)
        if x.count > 1 { step(&s1, &o1, x.c1) }
        if x.count > 2 { step(&s2, &o2, x.c2) }
        if x.count > 3 { step(&s3, &o3, x.c3) }
    }

    @inline(__always)
    func store(into out: UnsafeMutablePointer<Float>, stride: Int, columns: Int) {
        _mm256_storeu_ps(out, _mm256_add_ps(s0, o0))
        if columns > 1 { _mm256_storeu_ps(out + stride, _mm256_add_ps(s1, o1)) }
        if columns > 2 { _mm256_storeu_ps(out + 2 &* stride, _mm256_add_ps(s2, o2)) }
        if columns > 3 { _mm256_storeu_ps(out + 3 &* stride, _mm256_add_ps(s3, o3)) }
    }
}
#endif
