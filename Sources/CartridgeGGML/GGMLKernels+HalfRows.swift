#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// fp16 rows written and read as fp32 (the decoder's fp16 KV cache): conversions round to
/// nearest even (IEEE 754 binary16; F16C's `vcvtps2ph`/`vcvtph2ps` where the target has them).
extension GGMLKernels {
    /// row[i] = fp16(x[i]) for i in 0..<count (row: 2 · count bytes, any alignment).
    @inline(__always)
    public static func storeHalf(_ x: UnsafePointer<Float>, count: Int, into row: UnsafeMutableRawPointer) {
        var j = 0
        while j &+ 8 <= count {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            var h = SIMD8<UInt16>()
            for k in 0..<8 { h[k] = Float16(v[k]).bitPattern }
            row.storeBytes(of: h, toByteOffset: j &* 2, as: SIMD8<UInt16>.self)
            j &+= 8
        }
        while j < count {
            row.storeBytes(of: Float16(x[j]).bitPattern, toByteOffset: j &* 2, as: UInt16.self)
            j &+= 1
        }
    }

    /// out[i] += weight · row[i] for i in 0..<count, row holding `count` fp16 values.
    @inline(__always)
    public static func addScaledHalf(_ row: UnsafeRawPointer, _ weight: Float, count: Int, into out: UnsafeMutablePointer<Float>) {
        var j = 0
        #if arch(x86_64)
        let w = _mm256_set1_ps(weight)
        while j &+ 8 <= count {
            let v = _mm256_cvtph_ps(_mm_loadu_si128((row + j &* 2).assumingMemoryBound(to: __m128i.self)))
            _mm256_storeu_ps(out + j, _mm256_fmadd_ps(v, w, _mm256_loadu_ps(out + j)))
            j &+= 8
        }
        #endif
        while j < count {
            out[j] += weight * half(row, j &* 2)
            j &+= 1
        }
    }
}
