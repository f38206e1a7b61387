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

    /// Grouped-query attention on one q16 row (a key or value of one KV head), shared by `heads`
    /// query heads (1...4): each int16 is converted once for all of them.
    ///
    /// dots: out[h · stride] = scale · Σ queries[h · count + i] · scales[i / 32] · quants[i], each
    /// head's sum in exactly `dotInt16Blocks`' order (the same value, bit for bit).
    @inline(__always)
    public static func dotInt16Blocks(
        _ quants: UnsafePointer<Int16>, _ scales: UnsafePointer<Float>, queries: UnsafePointer<Float>, heads: Int, count: Int,
        scale: Float, into out: UnsafeMutablePointer<Float>, stride: Int
    ) {
        precondition(heads >= 1 && heads <= 4, "dotInt16Blocks: \(heads) heads (1...4)")
        #if arch(x86_64)
        var t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps(), t2 = _mm256_setzero_ps(), t3 = _mm256_setzero_ps()
        let x0 = queries, x1 = queries + count, x2 = queries + 2 &* count, x3 = queries + 3 &* count
        var b = 0
        while b &* 32 < count {
            let q = UnsafeRawPointer(quants + b &* 32), e = b &* 32
            let v0 = int16x8(q), v1 = int16x8(q + 16), v2 = int16x8(q + 32), v3 = int16x8(q + 48)
            let d = _mm256_set1_ps(scales[b])
            @inline(__always) func block(_ x: UnsafePointer<Float>) -> __m256 {
                var block = _mm256_mul_ps(v0, _mm256_loadu_ps(x + e))
                block = _mm256_fmadd_ps(v1, _mm256_loadu_ps(x + (e &+ 8)), block)
                block = _mm256_fmadd_ps(v2, _mm256_loadu_ps(x + (e &+ 16)), block)
                return _mm256_fmadd_ps(v3, _mm256_loadu_ps(x + (e &+ 24)), block)
            }
            t0 = _mm256_fmadd_ps(block(x0), d, t0)
            if heads > 1 { t1 = _mm256_fmadd_ps(block(x1), d, t1) }
            if heads > 2 { t2 = _mm256_fmadd_ps(block(x2), d, t2) }
            if heads > 3 { t3 = _mm256_fmadd_ps(block(x3), d, t3) }
            b &+= 1
        }
        out[0] = horizontalSum(t0) * scale
        if heads > 1 { out[stride] = horizontalSum(t1) * scale }
        if heads > 2 { out[2 &* stride] = horizontalSum(t2) * scale }
        if heads > 3 { out[3 &* stride] = horizontalSum(t3) * scale }
        #else
        for h in 0..<heads { out[h &* stride] = dotInt16Blocks(quants, scales, queries + h &* count, count: count) * scale }
        #endif
    }

    /// values: out[h · count + i] += weights[h · stride] · scales[i / 32] · quants[i] for each of
    /// `heads` query heads (1...4), each in exactly `addScaledInt16Blocks`' order.
    @inline(__always)
    public static func addScaledInt16Blocks(
        _ quants: UnsafePointer<Int16>, _ scales: UnsafePointer<Float>, weights: UnsafePointer<Float>, stride: Int, heads: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(heads >= 1 && heads <= 4, "addScaledInt16Blocks: \(heads) heads (1...4)")
        #if arch(x86_64)
        for b in 0..<(count / 32) {
            let q = UnsafeRawPointer(quants + b &* 32), e = b &* 32
            let v0 = int16x8(q), v1 = int16x8(q + 16), v2 = int16x8(q + 32), v3 = int16x8(q + 48)
            @inline(__always) func add(_ h: Int) {
                let w = _mm256_set1_ps(weights[h &* stride] * scales[b])
                let o = out + (h &* count &+ e)
                _mm256_storeu_ps(o, _mm256_fmadd_ps(v0, w, _mm256_loadu_ps(o)))
                _mm256_storeu_ps(o + 8, _mm256_fmadd_ps(v1, w, _mm256_loadu_ps(o + 8)))
                _mm256_storeu_ps(o + 16, _mm256_fmadd_ps(v2, w, _mm256_loadu_ps(o + 16)))
                _mm256_storeu_ps(o + 24, _mm256_fmadd_ps(v3, w, _mm256_loadu_ps(o + 24)))
            }
            add(0)
            if heads > 1 { add(1) }
            if heads > 2 { add(2) }
            if heads > 3 { add(3) }
        }
        #else
        for h in 0..<heads { addScaledInt16Blocks(quants, scales, weights[h &* stride], count: count, into: out + h &* count) }
        #endif
    }

    /// `addScaledInt16Blocks` over a run of positions: rows t in 0..<positions, row t's quants at
    /// `quants + t · rowBytes` and its block scales at `scales + t · rowBytes`;
    /// out[h · count + i] += weights[h · stride + t] · scales_t[i / 32] · quants_t[i] for each of
    /// `heads` heads (1...4), t in order. Bit for bit what `addScaledInt16Blocks` called for
    /// t = 0, 1, ... gives (every element gets the same fused multiply-adds in the same order),
    /// but each block's sums of up to three heads stay in registers over all the positions
    /// instead of being loaded and stored once per position (the values half of attention,
    /// which a long context makes as costly as the weights).
    public static func addScaledInt16Rows(
        quants: UnsafeRawPointer, scales: UnsafeRawPointer, rowBytes: Int, positions: Int,
        weights: UnsafePointer<Float>, stride: Int, heads: Int, count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        precondition(heads >= 1 && heads <= 4, "addScaledInt16Rows: \(heads) heads (1...4)")
        #if arch(x86_64)
        var first = 0
        while first < heads {
            let group = min(3, heads &- first)
            for b in 0..<(count / 32) {
                let q = quants + b &* 64, s = scales + b &* 4, w = weights + first &* stride, o = out + (first &* count &+ b &* 32)
                switch group {
                case 1: addScaledInt16RowsBlock(q, s, rowBytes: rowBytes, positions: positions, weights: w, stride: stride, heads: 1, count: count, into: o)
                case 2: addScaledInt16RowsBlock(q, s, rowBytes: rowBytes, positions: positions, weights: w, stride: stride, heads: 2, count: count, into: o)
                default: addScaledInt16RowsBlock(q, s, rowBytes: rowBytes, positions: positions, weights: w, stride: stride, heads: 3, count: count, into: o)
                }
            }
            first &+= group
        }
        #else
        for t in 0..<positions {
            let row = t &* rowBytes
            addScaledInt16Blocks(
                (quants + row).assumingMemoryBound(to: Int16.self), (scales + row).assumingMemoryBound(to: Float.self),
                weights: weights + t, stride: stride, heads: heads, count: count, into: out)
        }
        #endif
    }

    #if arch(x86_64)
    /// One block of 32 elements of `addScaledInt16Rows` for `heads` (a constant 1...3 where it is
    /// inlined) heads: 4 × heads accumulators across the positions.
    @inline(__always)
    static func addScaledInt16RowsBlock(
        _ quants: UnsafeRawPointer, _ scales: UnsafeRawPointer, rowBytes: Int, positions: Int,
        weights: UnsafePointer<Float>, stride: Int, heads: Int, count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        let o0 = out, o1 = out + count, o2 = out + 2 &* count
        let zero = _mm256_setzero_ps()
        var a00 = _mm256_loadu_ps(o0), a01 = _mm256_loadu_ps(o0 + 8), a02 = _mm256_loadu_ps(o0 + 16), a03 = _mm256_loadu_ps(o0 + 24)
        var a10 = zero, a11 = zero, a12 = zero, a13 = zero, a20 = zero, a21 = zero, a22 = zero, a23 = zero
        if heads > 1 { a10 = _mm256_loadu_ps(o1); a11 = _mm256_loadu_ps(o1 + 8); a12 = _mm256_loadu_ps(o1 + 16); a13 = _mm256_loadu_ps(o1 + 24) }
        if heads > 2 { a20 = _mm256_loadu_ps(o2); a21 = _mm256_loadu_ps(o2 + 8); a22 = _mm256_loadu_ps(o2 + 16); a23 = _mm256_loadu_ps(o2 + 24) }
        var q = quants, s = scales
        for t in 0..<positions {
            let d = s.load(as: Float.self)
            let w0 = _mm256_set1_ps(weights[t] * d)
            let w1 = heads > 1 ? _mm256_set1_ps(weights[stride &+ t] * d) : zero
            let w2 = heads > 2 ? _mm256_set1_ps(weights[2 &* stride &+ t] * d) : zero
            // Eight values of the row, converted once, into each head's sums.
            @inline(__always) func add(_ v: __m256, _ h0: inout __m256, _ h1: inout __m256, _ h2: inout __m256) {
                h0 = _mm256_fmadd_ps(v, w0, h0)
                if heads > 1 { h1 = _mm256_fmadd_ps(v, w1, h1) }
                if heads > 2 { h2 = _mm256_fmadd_ps(v, w2, h2) }
            }
            add(int16x8(q), &a00, &a10, &a20)
            add(int16x8(q + 16), &a01, &a11, &a21)
            add(int16x8(q + 32), &a02, &a12, &a22)
            add(int16x8(q + 48), &a03, &a13, &a23)
            q += rowBytes
            s += rowBytes
        }
        _mm256_storeu_ps(o0, a00); _mm256_storeu_ps(o0 + 8, a01); _mm256_storeu_ps(o0 + 16, a02); _mm256_storeu_ps(o0 + 24, a03)
        if heads > 1 { _mm256_storeu_ps(o1, a10); _mm256_storeu_ps(o1 + 8, a11); _mm256_storeu_ps(o1 + 16, a12); _mm256_storeu_ps(o1 + 24, a13) }
        if heads > 2 { _mm256_storeu_ps(o2, a20); _mm256_storeu_ps(o2 + 8, a21); _mm256_storeu_ps(o2 + 16, a22); _mm256_storeu_ps(o2 + 24, a23) }
    }

    /// Eight int16 at p as fp32.
    @inline(__always)
    static func int16x8(_ p: UnsafeRawPointer) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))))
    }
    #endif
}
