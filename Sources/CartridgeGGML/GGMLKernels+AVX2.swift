#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The AVX2 kernels (the package's x86-64 target CPU, haswell or later, guarantees AVX2, FMA and
/// F16C). Per 32 weights the pattern is the one of llama.cpp: unpack the weights to one byte
/// each. Signed weights (Q8_0, Q6_K's q − 32) move their sign onto x with `vpsignb` (|w| is then
/// unsigned); the offset types keep their unsigned quants (Q4_0/Q5_0 subtract 8/16 · Σx per
/// block afterwards from the activation's block sums, Q4_1/Q5_1/Q4_K/Q5_K add/subtract their
/// min the same way). `vpmaddubsw` multiplies u8 × s8 and adds adjacent pairs into int16 (at
/// most 2·128·127 = 32,512: no saturation since activation quants are within ±127); `vpmaddwd`
/// widens the pairs into eight int32 sums (by ones, or by the int16 sub-block scales for Q6_K);
/// the int32 sums are converted and FMA'd into fp32 accumulators with the block's scale
/// product. Two accumulators (two FMA chains) per kernel.
extension GGMLKernels {
    // MARK: Helpers

    @inline(__always)
    static func load256(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
    }

    /// 32 bytes from 16 bytes of nibbles: bytes 0..<16 the low nibbles, 16..<32 the high ones
    /// (the element order of Q4_0/Q4_1/Q5_0/Q5_1 blocks).
    @inline(__always)
    static func bytesFromNibbles(_ p: UnsafeRawPointer) -> __m256i {
        let packed = _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
        return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F))
    }

    /// 32 bytes from 32 bits: byte i is 0xFF if bit i of the little-endian word at p is set, else 0.
    @inline(__always)
    static func bytesFromBits(_ p: UnsafeRawPointer) -> __m256i {
        let word = Int32(bitPattern: p.loadUnaligned(as: UInt32.self))
        let spread = _mm256_shuffle_epi8(
            _mm256_set1_epi32(word),
            _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0)
        )
        let marked = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7FBF_DFEF_F7FB_FDFE))
        return _mm256_cmpeq_epi8(marked, _mm256_set1_epi64x(-1))
    }

    /// Eight int32 pair sums of signed weight bytes w (−128...127) times activation bytes x.
    @inline(__always)
    static func signedProducts(_ w: __m256i, _ x: __m256i) -> __m256i {
        _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w))
    }

    /// Eight int32 sums of signed weights times activation bytes.
    @inline(__always)
    static func signedDot(_ w: __m256i, _ x: __m256i) -> __m256i {
        _mm256_madd_epi16(signedProducts(w, x), _mm256_set1_epi16(1))
    }

    /// Eight int32 sums of unsigned weights (0...255, here ≤ 31) times activation bytes.
    @inline(__always)
    static func unsignedDot(_ w: __m256i, _ x: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1))
    }

    /// Runs `body(b, d, &acc)` over blocks 0..<blocks of `bytesPerBlock` bytes whose first
    /// two bytes are the fp16 scale d, alternating between two accumulators (two independent
    /// FMA chains) and returns their sum.
    ///
    /// The two blocks' scales are converted together: a lone fp16 load compiled to `vpinsrw`
    /// into whatever register was free, often an accumulator, which chained each block's
    /// scale to the previous block's FMA (Q4_1 went 26 % faster once its d and m were loaded
    /// as one 32-bit pair).
    @inline(__always)
    static func scaledBlocks(
        _ row: UnsafeRawPointer, blocks: Int, bytesPerBlock: Int, _ body: (Int, Float, inout __m256) -> Void
    ) -> __m256 {
        var acc0 = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var b = 0
        while b &+ 2 <= blocks {
            let first = UInt32(row.loadUnaligned(fromByteOffset: b &* bytesPerBlock, as: UInt16.self))
            let second = UInt32(row.loadUnaligned(fromByteOffset: (b &+ 1) &* bytesPerBlock, as: UInt16.self))
            let d = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: first | second << 16)))
            body(b, d[0], &acc0)
            body(b &+ 1, d[1], &acc1)
            b &+= 2
        }
        if b < blocks { body(b, halfByMultiply(row.loadUnaligned(fromByteOffset: b &* bytesPerBlock, as: UInt16.self)), &acc0) }
        return _mm256_add_ps(acc0, acc1)
    }

    /// fp16 → fp32 without F16C, for a lone scale (see `scaledBlocks` for why not `vcvtph2ps`):
    /// the half's exponent and mantissa placed in an fp32 (a subnormal for zero exponents)
    /// and multiplied by 2¹¹², exact for every finite half; inf/NaN take the bit-manipulation path.
    @inline(__always)
    static func halfByMultiply(_ h: UInt16) -> Float {
        if h & 0x7C00 == 0x7C00 { return halfToFloatBits(h) }
        let bits = (UInt32(h & 0x7FFF) << 13) | (UInt32(h & 0x8000) << 16)
        return Float(bitPattern: bits) * 0x1p112
    }

    /// The two consecutive fp16 values at p + offset (a block's d and m) as fp32.
    @inline(__always)
    static func halfPairF16C(_ p: UnsafeRawPointer, _ offset: Int) -> (Float, Float) {
        let v = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
        return (v[0], v[1])
    }

    /// Runs `body` over blocks 0..<blocks alternating between two accumulators (two independent
    /// FMA chains; about 10 % faster than one) and returns their sum.
    @inline(__always)
    static func alternating(blocks: Int, _ body: (Int, inout __m256) -> Void) -> __m256 {
        var acc0 = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var b = 0
        while b &+ 2 <= blocks {
            body(b, &acc0)
            body(b &+ 1, &acc1)
            b &+= 2
        }
        if b < blocks { body(b, &acc0) }
        return _mm256_add_ps(acc0, acc1)
    }

    @inline(__always)
    static func accumulate(_ acc: inout __m256, _ sums: __m256i, _ scale: Float) {
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale), acc)
    }

    // MARK: Activation quantization

    /// The block of 32 values at p as integers: d = max|x| / limit and round(x · (1/d)) in four
    /// vectors of eight int32, elements 0..<8 ... 24..<32 (d = 0 and zeros for an all-zero block).
    /// `vcvtps2dq` rounds to nearest even (the default MXCSR mode), as the portable paths do. The
    /// three AVX2 quantizers (8-bit and 16-bit activations, the q16 KV cache) share it.
    @inline(__always)
    static func roundedBlock(_ p: UnsafePointer<Float>, limit: Float) -> (d: Float, i0: __m256i, i1: __m256i, i2: __m256i, i3: __m256i) {
        let signMask = _mm256_set1_ps(-0.0)
        let v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8)
        let v2 = _mm256_loadu_ps(p + 16), v3 = _mm256_loadu_ps(p + 24)
        let m = _mm256_max_ps(
            _mm256_max_ps(_mm256_andnot_ps(signMask, v0), _mm256_andnot_ps(signMask, v1)),
            _mm256_max_ps(_mm256_andnot_ps(signMask, v2), _mm256_andnot_ps(signMask, v3))
        )
        let m4 = _mm_max_ps(m.lowHalf, m.highHalf)
        let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4))
        let amax = max(m2[0], m2[1])
        let d = amax / limit
        let id: Float = d != 0 ? 1 / d : 0
        let scale = _mm256_set1_ps(id)
        return (d, _mm256_cvtps_epi32(_mm256_mul_ps(v0, scale)), _mm256_cvtps_epi32(_mm256_mul_ps(v1, scale)),
                _mm256_cvtps_epi32(_mm256_mul_ps(v2, scale)), _mm256_cvtps_epi32(_mm256_mul_ps(v3, scale)))
    }

    static func quantizeAVX2(_ x: UnsafePointer<Float>, blocks: Int, into a: QuantizedActivation) {
        for b in 0..<blocks {
            let (d, i0, i1, i2, i3) = roundedBlock(x + b &* 32, limit: 127)
            let total = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3))
            // packs work per 128-bit lane: the dwords end up in order 0 4 1 5 2 6 3 7; permute back.
            let packed = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3))
            let ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
            _mm256_storeu_si256(UnsafeMutableRawPointer(a.quants + b &* 32).assumingMemoryBound(to: __m256i.self), ordered)
            let t = unsafeBitCast(total, to: SIMD8<Int32>.self)
            let t4 = t.lowHalf &+ t.highHalf
            let t2 = t4.lowHalf &+ t4.highHalf
            a.scales[b] = d
            a.sums[b] = d * Float(t2[0] &+ t2[1])
        }
    }

    // MARK: Legacy blocks of 32

    static func dotQ8_0AVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 34) { b, d, acc in
            let block = row + b &* 34
            accumulate(&acc, signedDot(load256(block + 2), load256(xq + b &* 32)), d * a.scales[b])
        }
        return horizontalSum(acc)
    }

    /// Q4_0 as unsigned nibbles q (0...15): Σ (q − 8)·x = Σ q·x − 8·Σ x, where Σ x per block is the
    /// activation's block sum (fewer instructions than the sign trick on q − 8).
    static func dotQ4_0AVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        var offsets: Float = 0
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 18) { b, d, acc in
            accumulate(&acc, unsignedDot(bytesFromNibbles(row + (b &* 18 &+ 2)), load256(xq + b &* 32)), d * a.scales[b])
            offsets += d * a.sums[b]
        }
        return horizontalSum(acc) - 8 * offsets
    }

    static func dotQ4_1AVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var offsets: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        let acc = alternating(blocks: blocks) { b, acc in
            let block = row + b &* 20
            let dm = halfPairF16C(block, 0)
            let sums = unsignedDot(bytesFromNibbles(block + 4), load256(xq + b &* 32))
            accumulate(&acc, sums, dm.0 * a.scales[b])
            offsets += dm.1 * a.sums[b]
        }
        return horizontalSum(acc) + offsets
    }

    /// Q5_0 as unsigned 5-bit values q (0...31): Σ (q − 16)·x = Σ q·x − 16·Σ x.
    static func dotQ5_0AVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        let bit4 = _mm256_set1_epi8(0x10)
        var offsets: Float = 0
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 22) { b, d, acc in
            let block = row + b &* 22
            let w = _mm256_or_si256(bytesFromNibbles(block + 6), _mm256_and_si256(bytesFromBits(block + 2), bit4))
            accumulate(&acc, unsignedDot(w, load256(xq + b &* 32)), d * a.scales[b])
            offsets += d * a.sums[b]
        }
        return horizontalSum(acc) - 16 * offsets
    }

    static func dotQ5_1AVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var offsets: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        let bit4 = _mm256_set1_epi8(0x10)
        let acc = alternating(blocks: blocks) { b, acc in
            let block = row + b &* 24
            let dm = halfPairF16C(block, 0)
            let w = _mm256_or_si256(bytesFromNibbles(block + 8), _mm256_and_si256(bytesFromBits(block + 4), bit4))
            accumulate(&acc, unsignedDot(w, load256(xq + b &* 32)), dm.0 * a.scales[b])
            offsets += dm.1 * a.sums[b]
        }
        return horizontalSum(acc) + offsets
    }

    // MARK: K-quants (super-blocks of 256)

    static func dotQ4_KAVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, superBlocks: Int) -> Float {
        var acc = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var offsets: Float = 0
        let lowMask = _mm256_set1_epi8(0x0F)
        for s in 0..<superBlocks {
            let block = row + s &* 144
            let (d, dmin) = halfPairF16C(block, 0)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let dx = a.scales + s &* 8
            let sx = a.sums + s &* 8
            var minSum: Float = 0
            for g in 0..<4 {
                let q = load256(block + (16 &+ g &* 32))
                let low = _mm256_and_si256(q, lowMask)
                let high = _mm256_and_si256(_mm256_srli_epi16(q, 4), lowMask)
                let j = 2 &* g
                accumulate(&acc, unsignedDot(low, load256(xq + g &* 64)), d * Float(scales[j]) * dx[j])
                accumulate(&acc1, unsignedDot(high, load256(xq + (g &* 64 &+ 32))), d * Float(scales[j &+ 1]) * dx[j &+ 1])
                minSum += Float(mins[j]) * sx[j] + Float(mins[j &+ 1]) * sx[j &+ 1]
            }
            offsets += dmin * minSum
        }
        return horizontalSum(_mm256_add_ps(acc, acc1)) - offsets
    }

    static func dotQ5_KAVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, superBlocks: Int) -> Float {
        var acc = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var offsets: Float = 0
        let lowMask = _mm256_set1_epi8(0x0F)
        let one = _mm256_set1_epi8(1)
        for s in 0..<superBlocks {
            let block = row + s &* 176
            let (d, dmin) = halfPairF16C(block, 0)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            var highBits = load256(block + 16)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let dx = a.scales + s &* 8
            let sx = a.sums + s &* 8
            var minSum: Float = 0
            for g in 0..<4 {
                let q = load256(block + (48 &+ g &* 32))
                // Bit 0 (low sub-block) and bit 1 (high sub-block) of each high-bit byte, moved to bit 4.
                let low = _mm256_or_si256(_mm256_and_si256(q, lowMask), _mm256_slli_epi16(_mm256_and_si256(highBits, one), 4))
                let high = _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(q, 4), lowMask),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(highBits, 1), one), 4)
                )
                highBits = _mm256_srli_epi16(highBits, 2)
                let j = 2 &* g
                accumulate(&acc, unsignedDot(low, load256(xq + g &* 64)), d * Float(scales[j]) * dx[j])
                accumulate(&acc1, unsignedDot(high, load256(xq + (g &* 64 &+ 32))), d * Float(scales[j &+ 1]) * dx[j &+ 1])
                minSum += Float(mins[j]) * sx[j] + Float(mins[j &+ 1]) * sx[j &+ 1]
            }
            offsets += dmin * minSum
        }
        return horizontalSum(_mm256_add_ps(acc, acc1)) - offsets
    }

    static func dotQ6_KAVX2(_ row: UnsafeRawPointer, _ a: QuantizedActivation, superBlocks: Int) -> Float {
        var acc = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        let lowMask = _mm256_set1_epi8(0x0F)
        let bits45 = _mm256_set1_epi8(0x30)
        let thirtyTwo = _mm256_set1_epi8(32)
        for s in 0..<superBlocks {
            let block = row + s &* 210
            let d = halfByMultiply(block.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
            let dx = a.scales + s &* 8
            for h in 0..<2 {
                let ql0 = load256(block + h &* 64)
                let ql1 = load256(block + (h &* 64 &+ 32))
                let qh = load256(block + (128 &+ h &* 32))
                let sc = block + (192 &+ h &* 8)
                let xq = UnsafeRawPointer(a.quants + (s &* 256 &+ h &* 128))
                // Elements 0..<32, 32..<64, 64..<96, 96..<128 of the half: nibble | 2 high bits << 4, − 32.
                let q0 = _mm256_or_si256(_mm256_and_si256(ql0, lowMask), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45))
                let q1 = _mm256_or_si256(_mm256_and_si256(ql1, lowMask), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45))
                let q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), lowMask), _mm256_and_si256(qh, bits45))
                let q3 = _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), lowMask), _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45)
                )
                // The half's 8 int8 scales as int16, in both 128-bit lanes; block k takes scales
                // 2k (its first 16 elements, low lane) and 2k+1 (last 16, high lane) by a byte shuffle.
                let scales16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(Int64(bitPattern: sc.loadUnaligned(as: UInt64.self)))))
                let j = h &* 4
                accumulate(&acc, q6Dot(_mm256_sub_epi8(q0, thirtyTwo), load256(xq), scales16, 0), d * dx[j])
                accumulate(&acc1, q6Dot(_mm256_sub_epi8(q1, thirtyTwo), load256(xq + 32), scales16, 1), d * dx[j &+ 1])
                accumulate(&acc, q6Dot(_mm256_sub_epi8(q2, thirtyTwo), load256(xq + 64), scales16, 2), d * dx[j &+ 2])
                accumulate(&acc1, q6Dot(_mm256_sub_epi8(q3, thirtyTwo), load256(xq + 96), scales16, 3), d * dx[j &+ 3])
            }
        }
        return horizontalSum(_mm256_add_ps(acc, acc1))
    }

    /// Eight int32 sums of 32 signed Q6_K weights times activation bytes, the first 16 elements
    /// weighted by int16 scale 2k of `scales16` (8 int16 scales repeated in both 128-bit lanes),
    /// the last 16 by scale 2k+1.
    @inline(__always)
    static func q6Dot(_ w: __m256i, _ x: __m256i, _ scales16: __m256i, _ k: Int) -> __m256i {
        let low = Int16(4 &* k) | Int16(4 &* k &+ 1) << 8  // bytes of int16 scale 2k
        let high = Int16(4 &* k &+ 2) | Int16(4 &* k &+ 3) << 8  // bytes of int16 scale 2k+1
        let pick = _mm256_set_m128i(_mm_set1_epi16(high), _mm_set1_epi16(low))
        return _mm256_madd_epi16(signedProducts(w, x), _mm256_shuffle_epi8(scales16, pick))
    }

    // MARK: Float rows

    static func dotF16AVX2(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var acc0 = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var j = 0
        while j &+ 16 <= n {
            let w0 = _mm256_cvtph_ps(_mm_loadu_si128((row + j &* 2).assumingMemoryBound(to: __m128i.self)))
            let w1 = _mm256_cvtph_ps(_mm_loadu_si128((row + (j &* 2 &+ 16)).assumingMemoryBound(to: __m128i.self)))
            acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j), acc0)
            acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + (j &+ 8)), acc1)
            j &+= 16
        }
        var sum = horizontalSum(_mm256_add_ps(acc0, acc1))
        while j < n {
            sum += half(row, j &* 2) * x[j]
            j &+= 1
        }
        return sum
    }

    static func dotBF16AVX2(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var acc0 = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var j = 0
        while j &+ 16 <= n {
            let h0 = _mm_loadu_si128((row + j &* 2).assumingMemoryBound(to: __m128i.self))
            let h1 = _mm_loadu_si128((row + (j &* 2 &+ 16)).assumingMemoryBound(to: __m128i.self))
            let w0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h0), 16))
            let w1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h1), 16))
            acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j), acc0)
            acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + (j &+ 8)), acc1)
            j &+= 16
        }
        var sum = horizontalSum(_mm256_add_ps(acc0, acc1))
        while j < n {
            sum += bfloat16ToFloat(row.loadUnaligned(fromByteOffset: j &* 2, as: UInt16.self)) * x[j]
            j &+= 1
        }
        return sum
    }
}
#endif
