#if arch(x86_64)
import CPrefetch
import _Builtin_intrinsics.intel

extension VectorMath {
    /// The Q8_0 dot product for group sizes that are multiples of 32, with AVX2 integer
    /// instructions (Swift's portable SIMD has no widening int8 multiply-add; its integer
    /// conversions compile to generic code). Per 32 weights: `vpsignb` twice moves the sign of w
    /// onto x (|w| is then unsigned), `vpmaddubsw` multiplies u8 × s8 and adds adjacent pairs into
    /// int16 (at most 2·128·127 = 32,512, no saturation for quants in -128...127 with |x| ≤ 127), and
    /// `vpmaddwd` by ones widens the pairs into int32 sums. Each group's int32 sum is scaled in fp32.
    ///
    /// Needs AVX2, which the package's x86-64 target CPU (haswell or later) guarantees.
    @inline(__always)
    static func dotQ8AVX2(
        _ wq: UnsafeRawPointer, _ wScales: UnsafeRawPointer, _ xq: UnsafeRawPointer, _ xScales: UnsafePointer<Float>,
        groups: Int, groupSize gs: Int
    ) -> Float {
        let ones = _mm256_set1_epi16(1)
        var acc = _mm256_setzero_ps()
        var k = 0
        for g in 0..<groups {
            var isum = _mm256_setzero_si256()
            let end = k &+ gs
            while k < end {
                cartridge_prefetch(wq + (k &+ prefetchDistance))
                let w = _mm256_loadu_si256((wq + k).assumingMemoryBound(to: __m256i.self))
                let x = _mm256_loadu_si256((xq + k).assumingMemoryBound(to: __m256i.self))
                let products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w))
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(products, ones))
                k &+= 32
            }
            let scale = wScales.loadUnaligned(fromByteOffset: g &* 4, as: Float.self) * xScales[g]
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(scale), acc)
        }
        return sum(acc)  // __m256 is SIMD8<Float>
    }
}
#endif
