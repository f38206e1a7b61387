#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Rows of 16-bit integers in blocks of 32 with one fp32 scale per block (the decoder's q16 KV
/// cache): element i stands for scales[i / 32] · quants[i], the scale being max|x| / 32767 over
/// the block, so each value is off by at most scale / 2 = max|x_block| / 65534 (fp16 rounds each
/// value to 2^-11 of itself, 32 times coarser for a block's largest values).
extension GGMLKernels {
    /// Quantizes `count` values (a multiple of 32) of x into quants and count / 32 scales.
    public static func quantizeInt16Blocks(_ x: UnsafePointer<Float>, count: Int, quants: UnsafeMutablePointer<Int16>, scales: UnsafeMutablePointer<Float>) {
        precondition(count % 32 == 0, "quantizeInt16Blocks: \(count) is not a multiple of 32")
        #if arch(x86_64)
        quantizeInt16BlocksAVX2(x, blocks: count / 32, quants: quants, scales: scales)
        #else
        portableQuantizeInt16Blocks(x, blocks: count / 32, quants: quants, scales: scales)
        #endif
    }

    /// The element-by-element definition (the other architectures' path and the tests' reference).
    static func portableQuantizeInt16Blocks(_ x: UnsafePointer<Float>, blocks: Int, quants: UnsafeMutablePointer<Int16>, scales: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let p = x + b &* 32
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(p[j])) }
            let d = amax / 32767
            let inverse: Float = d != 0 ? 1 / d : 0
            let q = quants + b &* 32
            for j in 0..<32 { q[j] = Int16(max(-32767, min(32767, (p[j] * inverse).rounded(.toNearestOrEven)))) }
            scales[b] = d
        }
    }

    #if arch(x86_64)
    /// The same values as `portableQuantizeInt16Blocks`, bit for bit (element by element, the
    /// KV-cache stores were 1.3 % of the inference thread's samples in a four-stream decode):
    /// the same d and 1/d, `vcvtps2dq` rounds to nearest even as `.toNearestOrEven` does, and
    /// |x · (1/d)| ≤ 32767 plus a few ulps, so no value reaches the clamp.
    static func quantizeInt16BlocksAVX2(_ x: UnsafePointer<Float>, blocks: Int, quants: UnsafeMutablePointer<Int16>, scales: UnsafeMutablePointer<Float>) {
        // packs interleaves its two inputs per 128-bit lane; this dword permutation restores order.
        let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
        for b in 0..<blocks {
            let (d, i0, i1, i2, i3) = roundedBlock(x + b &* 32, limit: 32767)
            let q = UnsafeMutableRawPointer(quants + b &* 32)
            _mm256_storeu_si256(q.assumingMemoryBound(to: __m256i.self), _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i0, i1), order))
            _mm256_storeu_si256((q + 32).assumingMemoryBound(to: __m256i.self), _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i2, i3), order))
            scales[b] = d
        }
    }
    #endif

    /// Σ x[i] · scales[i / 32] · quants[i] over `count` elements (a multiple of 32).
    @inline(__always)
    public static func dotInt16Blocks(_ quants: UnsafePointer<Int16>, _ scales: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int) -> Float {
        #if arch(x86_64)
        var total = _mm256_setzero_ps()
        var b = 0
        while b &* 32 < count {
            let q = UnsafeRawPointer(quants + b &* 32), xb = x + b &* 32
            var block = _mm256_mul_ps(int16x8(q), _mm256_loadu_ps(xb))
            block = _mm256_fmadd_ps(int16x8(q + 16), _mm256_loadu_ps(xb + 8), block)
            block = _mm256_fmadd_ps(int16x8(q + 32), _mm256_loadu_ps(xb + 16), block)
            block = _mm256_fmadd_ps(int16x8(q + 48), _mm256_loadu_ps(xb + 24), block)
            total = _mm256_fmadd_ps(block, _mm256_set1_ps(scales[b]), total)
            b &+= 1
        }
        return horizontalSum(total)
        #else
        var total: Float = 0
        for b in 0..<(count / 32) {
            var block: Float = 0
            for j in 0..<32 { block += Float(quants[b &* 32 &+ j]) * x[b &* 32 &+ j] }
            total += block * scales[b]
        }
        return total
        #endif
    }

    /// out[i] += weight · scales[i / 32] · quants[i] for i in 0..<count (a multiple of 32).
    @inline(__always)
    public static func addScaledInt16Blocks(_ quants: UnsafePointer<Int16>, _ scales: UnsafePointer<Float>, _ weight: Float, count: Int, into out: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let w = weight * scales[b]
            #if arch(x86_64)
            let q = UnsafeRawPointer(quants + b &* 32), o = out + b &* 32
            let wv = _mm256_set1_ps(w)
            for k in 0..<4 {
                _mm256_storeu_ps(o + k &* 8, _mm256_fmadd_ps(int16x8(q + k &* 16), wv, _mm256_loadu_ps(o + k &* 8)))
            }
            #else
            for j in 0..<32 { out[b &* 32 &+ j] += w * Float(quants[b &* 32 &+ j]) }
            #endif
        }
    }

    #if arch(x86_64)
    /// Eight int16 at p as fp32.
    @inline(__always)
    static func int16x8(_ p: UnsafeRawPointer) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))))
    }
    #endif
}
