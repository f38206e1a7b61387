#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The AVX2 16-bit activation kernels (see `GGMLKernels+Wide.swift` for the scheme and the
/// overflow bounds). The activation stores each block of 32 as 16 even elements then 16 odd ones
/// (`WideQuantizedActivation.quantIndex(of:)`), so 32 weight bytes in element order, read as
/// sixteen 16-bit lanes, split into the even elements (low bytes) and the odd ones (high bytes)
/// by shifts and masks only; 16-bit nibble lanes split into four element planes the same way.
/// Per block: `vpmaddwd` even weights × even quants and odd × odd, add the two sets of eight
/// int32 lane sums (each lane: 4 products), convert once and FMA into one of two fp32
/// accumulators with the block's scale product.
extension GGMLKernels {
    @inline(__always)
    static func load128(_ p: UnsafeRawPointer) -> __m128i {
        _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
    }

    /// Eight int32 lane sums of a block's even weights (16-bit lanes) × the block's 16 even
    /// quants at x, plus the odd weights × the 16 odd quants at x + 32 bytes.
    @inline(__always)
    static func wideDot(even: __m256i, odd: __m256i, _ x: UnsafeRawPointer) -> __m256i {
        _mm256_add_epi32(_mm256_madd_epi16(even, load256(x)), _mm256_madd_epi16(odd, load256(x + 32)))
    }

    /// `wideDot` of 32 signed weight bytes (int8) in element order.
    @inline(__always)
    static func wideSignedDot(_ w: __m256i, _ x: UnsafeRawPointer) -> __m256i {
        wideDot(even: _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), odd: _mm256_srai_epi16(w, 8), x)
    }

    /// `wideDot` of 32 unsigned weight bytes (0...255) in element order.
    @inline(__always)
    static func wideUnsignedDot(_ w: __m256i, _ x: UnsafeRawPointer) -> __m256i {
        wideDot(even: _mm256_and_si256(w, _mm256_set1_epi16(0x00FF)), odd: _mm256_srli_epi16(w, 8), x)
    }

    /// The even and odd elements (16-bit lanes, 0...15) of a Q4_0/Q4_1 block's 16 bytes of
    /// nibbles (low nibbles are elements 0..<16, high nibbles 16..<32): a 16-bit lane of bytes
    /// (2i, 2i+1) holds elements 2i, 2i+1 at bits 0 and 8 and elements 16+2i, 17+2i at bits 4
    /// and 12. Built from 128-bit shifts and masks joined by `vinserti128` (8 % faster than
    /// broadcasting the bytes and shifting the upper lane with `vpsrlvd`).
    @inline(__always)
    static func nibblePlanes(_ p: UnsafeRawPointer) -> (even: __m256i, odd: __m256i) {
        let bytes = load128(p)
        let mask = _mm_set1_epi16(0x000F)
        let even = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), _mm_and_si128(bytes, mask))
        let odd = _mm256_set_m128i(_mm_srli_epi16(bytes, 12), _mm_and_si128(_mm_srli_epi16(bytes, 8), mask))
        return (even, odd)
    }

    // MARK: Activation quantization

    /// With `planes`, also fills `a.planes` as `splitPlanes` does, from the vectors at hand (the
    /// separate pass went through Swift's generic SIMD conversions, lane by lane: 12 % of a
    /// two-thread pp128 in perf).
    static func wideQuantizeAVX2(_ x: UnsafePointer<Float>, blocks: Int, into a: WideQuantizedActivation, planes: Bool) {
        let bias = _mm256_set1_epi16(128), lowByte = _mm256_set1_epi16(0xFF)
        // packs works per 128-bit lane: the 64-bit groups of four int16 come out as
        // v0[0..<4] v1[0..<4] v0[4..<8] v1[4..<8]; this dword permutation puts them in order.
        let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
        for b in 0..<blocks {
            // |x·(1/d)| ≤ maximumQuant + a few ulps, so the values fit int16 and packs never saturates.
            let (d, i0, i1, i2, i3) = roundedBlock(x + b &* 32, limit: Float(WideQuantizedActivation.maximumQuant))
            let firstHalf = _mm256_add_epi32(i0, i1)
            let total = _mm256_add_epi32(firstHalf, _mm256_add_epi32(i2, i3))
            // Elements 0..<16 and 16..<32 as int16 in order, then each 32-bit lane (elements 2i,
            // 2i+1) split into its sign-extended low (even) and high (odd) halves, packed again.
            let first = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i0, i1), order)
            let second = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i2, i3), order)
            let even = _mm256_packs_epi32(
                _mm256_srai_epi32(_mm256_slli_epi32(first, 16), 16), _mm256_srai_epi32(_mm256_slli_epi32(second, 16), 16)
            )
            let odd = _mm256_packs_epi32(_mm256_srai_epi32(first, 16), _mm256_srai_epi32(second, 16))
            let q = UnsafeMutableRawPointer(a.quants + b &* 32)
            let slots0 = _mm256_permutevar8x32_epi32(even, order), slots1 = _mm256_permutevar8x32_epi32(odd, order)
            _mm256_storeu_si256(q.assumingMemoryBound(to: __m256i.self), slots0)
            _mm256_storeu_si256((q + 32).assumingMemoryBound(to: __m256i.self), slots1)
            let sum = int32LaneSum(total)
            a.scales[b] = d
            a.sums[b] = d * Float(sum)
            if planes {
                // lo = ((q + 128) mod 256) − 128 and hi = (q − lo) / 256, both within −128...127
                // (|q| ≤ 32639), so the saturating packs keep them; packs interleaves the two
                // inputs per 128-bit lane and `order` (qwords 0, 2, 1, 3) undoes it.
                let low0 = _mm256_sub_epi16(_mm256_and_si256(_mm256_add_epi16(slots0, bias), lowByte), bias)
                let low1 = _mm256_sub_epi16(_mm256_and_si256(_mm256_add_epi16(slots1, bias), lowByte), bias)
                let high0 = _mm256_srai_epi16(_mm256_sub_epi16(slots0, low0), 8)
                let high1 = _mm256_srai_epi16(_mm256_sub_epi16(slots1, low1), 8)
                let out = UnsafeMutableRawPointer(a.planes + b &* 96)
                _mm256_storeu_si256(
                    out.assumingMemoryBound(to: __m256i.self), _mm256_permutevar8x32_epi32(_mm256_packs_epi16(low0, low1), order))
                _mm256_storeu_si256(
                    (out + 32).assumingMemoryBound(to: __m256i.self), _mm256_permutevar8x32_epi32(_mm256_packs_epi16(high0, high1), order))
                let first = int32LaneSum(firstHalf)
                out.storeBytes(of: sum, toByteOffset: 64, as: Int32.self)
                out.storeBytes(of: first, toByteOffset: 68, as: Int32.self)
                out.storeBytes(of: sum &- first, toByteOffset: 72, as: Int32.self)
            }
        }
    }

    /// The sum of eight int32 lanes (wrapping; the block sums here are far from overflowing).
    @inline(__always)
    static func int32LaneSum(_ v: __m256i) -> Int32 {
        let t = unsafeBitCast(v, to: SIMD8<Int32>.self)
        let t4 = t.lowHalf &+ t.highHalf
        let t2 = t4.lowHalf &+ t4.highHalf
        return t2[0] &+ t2[1]
    }

    // MARK: Legacy blocks of 32

    static func wideDotQ8_0AVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 34) { b, d, acc in
            accumulate(&acc, wideSignedDot(load256(row + (b &* 34 &+ 2)), xq + b &* 64), d * a.scales[b])
        }
        return horizontalSum(acc)
    }

    /// Q4_0 re-centred in the integers (q − 8 in −8...7), so no fp32 offset term cancels.
    static func wideDotQ4_0AVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        let eight = _mm256_set1_epi16(8)
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 18) { b, d, acc in
            let q = nibblePlanes(row + (b &* 18 &+ 2))
            let sums = wideDot(even: _mm256_sub_epi16(q.even, eight), odd: _mm256_sub_epi16(q.odd, eight), xq + b &* 64)
            accumulate(&acc, sums, d * a.scales[b])
        }
        return horizontalSum(acc)
    }

    static func wideDotQ4_1AVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        var offsets: Float = 0
        let acc = alternating(blocks: blocks) { b, acc in
            let block = row + b &* 20
            let dm = halfPairF16C(block, 0)
            let q = nibblePlanes(block + 4)
            accumulate(&acc, wideDot(even: q.even, odd: q.odd, xq + b &* 64), dm.0 * a.scales[b])
            offsets += dm.1 * a.sums[b]
        }
        return horizontalSum(acc) + offsets
    }

    /// Q5_0 re-centred in the integers (q − 16 in −16...15).
    static func wideDotQ5_0AVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        let bit4 = _mm256_set1_epi8(0x10)
        let sixteen = _mm256_set1_epi8(16)
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 22) { b, d, acc in
            let block = row + b &* 22
            let w = _mm256_or_si256(bytesFromNibbles(block + 6), _mm256_and_si256(bytesFromBits(block + 2), bit4))
            accumulate(&acc, wideSignedDot(_mm256_sub_epi8(w, sixteen), xq + b &* 64), d * a.scales[b])
        }
        return horizontalSum(acc)
    }

    static func wideDotQ5_1AVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, blocks: Int) -> Float {
        let xq = UnsafeRawPointer(a.quants)
        let bit4 = _mm256_set1_epi8(0x10)
        var offsets: Float = 0
        let acc = alternating(blocks: blocks) { b, acc in
            let block = row + b &* 24
            let dm = halfPairF16C(block, 0)
            let w = _mm256_or_si256(bytesFromNibbles(block + 8), _mm256_and_si256(bytesFromBits(block + 4), bit4))
            accumulate(&acc, wideUnsignedDot(w, xq + b &* 64), dm.0 * a.scales[b])
            offsets += dm.1 * a.sums[b]
        }
        return horizontalSum(acc) + offsets
    }

    // MARK: K-quants (super-blocks of 256)

    /// The eight sub-block scale products d · scale_j · activation scale_j of a Q4_K/Q5_K
    /// super-block, and dmin · min_j · activation sum_j (the offset terms) accumulated into
    /// `offsets`, all in vector registers.
    @inline(__always)
    static func kScaleProducts(
        _ d: Float, _ dmin: Float, _ scales: SIMD8<UInt8>, _ mins: SIMD8<UInt8>,
        _ dx: UnsafePointer<Float>, _ sx: UnsafePointer<Float>, _ offsets: inout __m256
    ) -> SIMD8<Float> {
        let scalesF = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: unsafeBitCast(scales, to: UInt64.self)))))
        let minsF = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: unsafeBitCast(mins, to: UInt64.self)))))
        offsets = _mm256_fmadd_ps(_mm256_mul_ps(minsF, _mm256_set1_ps(dmin)), _mm256_loadu_ps(sx), offsets)
        return _mm256_mul_ps(_mm256_mul_ps(scalesF, _mm256_set1_ps(d)), _mm256_loadu_ps(dx))
    }

    static func wideDotQ4_KAVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, superBlocks: Int) -> Float {
        var acc = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var offsets = _mm256_setzero_ps()
        let mask = _mm256_set1_epi16(0x000F)
        for s in 0..<superBlocks {
            let block = row + s &* 144
            let (d, dmin) = halfPairF16C(block, 0)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let products = kScaleProducts(d, dmin, scales, mins, a.scales + s &* 8, a.sums + s &* 8, &offsets)
            for g in 0..<4 {
                // 32 bytes: low nibbles are sub-block 2g, high nibbles sub-block 2g + 1; a 16-bit
                // lane of bytes (2i, 2i+1) holds their elements 2i and 2i+1 at bits 0, 8 (low
                // nibbles) and 4, 12 (high nibbles).
                let q = load256(block + (16 &+ g &* 32))
                let lowEven = _mm256_and_si256(q, mask)
                let lowOdd = _mm256_and_si256(_mm256_srli_epi16(q, 8), mask)
                let highEven = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask)
                let highOdd = _mm256_srli_epi16(q, 12)
                let j = 2 &* g
                accumulate(&acc, wideDot(even: lowEven, odd: lowOdd, xq + g &* 128), products[j])
                accumulate(&acc1, wideDot(even: highEven, odd: highOdd, xq + (g &* 128 &+ 64)), products[j &+ 1])
            }
        }
        return horizontalSum(_mm256_add_ps(acc, acc1)) - horizontalSum(offsets)
    }

    static func wideDotQ5_KAVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, superBlocks: Int) -> Float {
        var acc = _mm256_setzero_ps()
        var acc1 = _mm256_setzero_ps()
        var offsets = _mm256_setzero_ps()
        let lowMask = _mm256_set1_epi8(0x0F)
        let one = _mm256_set1_epi8(1)
        for s in 0..<superBlocks {
            let block = row + s &* 176
            let (d, dmin) = halfPairF16C(block, 0)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            var highBits = load256(block + 16)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let products = kScaleProducts(d, dmin, scales, mins, a.scales + s &* 8, a.sums + s &* 8, &offsets)
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
                accumulate(&acc, wideUnsignedDot(low, xq + g &* 128), products[j])
                accumulate(&acc1, wideUnsignedDot(high, xq + (g &* 128 &+ 64)), products[j &+ 1])
            }
        }
        return horizontalSum(_mm256_add_ps(acc, acc1)) - horizontalSum(offsets)
    }

    /// Q6_K: chunk k (elements 32k..<32k+32) of each half of a super-block is two sub-blocks of
    /// 16 with int8 scales sc[2k] and sc[2k+1]; the weights (q − 32) are multiplied by their
    /// scale in int16 (|product| ≤ 4096) before `vpmaddwd`, so one conversion per chunk suffices.
    /// In the even/odd planes a chunk's first sub-block is the lower 128-bit lane, the second
    /// the upper one.
    static func wideDotQ6_KAVX2(_ row: UnsafeRawPointer, _ a: WideQuantizedActivation, superBlocks: Int) -> Float {
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
                let xq = UnsafeRawPointer(a.quants + (s &* 256 &+ h &* 128))
                // The half's 8 int8 scales as int16 in both 128-bit lanes; chunk k picks 2k
                // (lower lane) and 2k+1 (upper lane) by a byte shuffle.
                let sc = block + (192 &+ h &* 8)
                let scales16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(Int64(bitPattern: sc.loadUnaligned(as: UInt64.self)))))
                // Elements 0..<32, 32..<64, 64..<96, 96..<128 of the half: nibble | 2 high bits << 4, − 32.
                let q0 = _mm256_or_si256(_mm256_and_si256(ql0, lowMask), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45))
                let q1 = _mm256_or_si256(_mm256_and_si256(ql1, lowMask), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45))
                let q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), lowMask), _mm256_and_si256(qh, bits45))
                let q3 = _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), lowMask), _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45)
                )
                let j = h &* 4
                accumulate(&acc, q6WideDot(_mm256_sub_epi8(q0, thirtyTwo), xq, scales16, 0), d * dx[j])
                accumulate(&acc1, q6WideDot(_mm256_sub_epi8(q1, thirtyTwo), xq + 64, scales16, 1), d * dx[j &+ 1])
                accumulate(&acc, q6WideDot(_mm256_sub_epi8(q2, thirtyTwo), xq + 128, scales16, 2), d * dx[j &+ 2])
                accumulate(&acc1, q6WideDot(_mm256_sub_epi8(q3, thirtyTwo), xq + 192, scales16, 3), d * dx[j &+ 3])
            }
        }
        return horizontalSum(_mm256_add_ps(acc, acc1))
    }

    /// Eight int32 lane sums of chunk k's 32 signed Q6_K weights (−32...31, element order) times
    /// the int16 quants at x, the first 16 weights scaled by int16 scale 2k of `scales16`
    /// (8 int16 scales repeated in both 128-bit lanes), the last 16 by scale 2k+1.
    @inline(__always)
    static func q6WideDot(_ w: __m256i, _ x: UnsafeRawPointer, _ scales16: __m256i, _ k: Int) -> __m256i {
        let low = Int16(4 &* k) | Int16(4 &* k &+ 1) << 8  // bytes of int16 scale 2k
        let high = Int16(4 &* k &+ 2) | Int16(4 &* k &+ 3) << 8  // bytes of int16 scale 2k+1
        let scale = _mm256_shuffle_epi8(scales16, _mm256_set_m128i(_mm_set1_epi16(high), _mm_set1_epi16(low)))
        let even = _mm256_mullo_epi16(_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), scale)
        let odd = _mm256_mullo_epi16(_mm256_srai_epi16(w, 8), scale)
        return wideDot(even: even, odd: odd, x)
    }
}
#endif
