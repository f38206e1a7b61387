#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The AVX2 multi-column wide kernels: one weight row against up to four activation columns
/// (the positions of a prefill chunk, or the sequences of a batched decoding step). Each group
/// of 32 weights is unpacked once into its even and odd 16-bit lanes, exactly as the one-column
/// kernels of `GGMLKernels+WideAVX2.swift` do, and `WideColumnAccumulators` multiplies it with
/// every column; the integer sums and their scaling are the one-column kernels' own, so each
/// column's result equals the one-column dot up to the fp32 accumulation order.
extension GGMLKernels {
    static func wideColumnsQ8_0AVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, blocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        for b in 0..<blocks {
            let block = row + b &* 34
            let w = load256(block + 2)
            sums.add(
                even: _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), odd: _mm256_srai_epi16(w, 8), block: b,
                weightScale: halfByMultiply(block.loadUnaligned(as: UInt16.self)))
        }
        return sums
    }

    static func wideColumnsQ4_0AVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, blocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        let eight = _mm256_set1_epi16(8)
        for b in 0..<blocks {
            let block = row + b &* 18
            let q = nibblePlanes(block + 2)
            sums.add(
                even: _mm256_sub_epi16(q.even, eight), odd: _mm256_sub_epi16(q.odd, eight), block: b,
                weightScale: halfByMultiply(block.loadUnaligned(as: UInt16.self)))
        }
        return sums
    }

    static func wideColumnsQ4_1AVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, blocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        for b in 0..<blocks {
            let block = row + b &* 20
            let dm = halfPairF16C(block, 0)
            let q = nibblePlanes(block + 4)
            sums.add(even: q.even, odd: q.odd, block: b, weightScale: dm.0)
            sums.addOffset(dm.1, block: b)
        }
        return sums
    }

    static func wideColumnsQ5_0AVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, blocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        let bit4 = _mm256_set1_epi8(0x10)
        let sixteen = _mm256_set1_epi8(16)
        for b in 0..<blocks {
            let block = row + b &* 22
            let w = _mm256_sub_epi8(_mm256_or_si256(bytesFromNibbles(block + 6), _mm256_and_si256(bytesFromBits(block + 2), bit4)), sixteen)
            sums.add(
                even: _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), odd: _mm256_srai_epi16(w, 8), block: b,
                weightScale: halfByMultiply(block.loadUnaligned(as: UInt16.self)))
        }
        return sums
    }

    static func wideColumnsQ5_1AVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, blocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        let bit4 = _mm256_set1_epi8(0x10)
        let lowBytes = _mm256_set1_epi16(0x00FF)
        for b in 0..<blocks {
            let block = row + b &* 24
            let dm = halfPairF16C(block, 0)
            let w = _mm256_or_si256(bytesFromNibbles(block + 8), _mm256_and_si256(bytesFromBits(block + 4), bit4))
            sums.add(even: _mm256_and_si256(w, lowBytes), odd: _mm256_srli_epi16(w, 8), block: b, weightScale: dm.0)
            sums.addOffset(dm.1, block: b)
        }
        return sums
    }

    static func wideColumnsQ4_KAVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, superBlocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        let mask = _mm256_set1_epi16(0x000F)
        for s in 0..<superBlocks {
            let block = row + s &* 144
            let (d, dmin) = halfPairF16C(block, 0)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            for g in 0..<4 {
                let q = load256(block + (16 &+ g &* 32))
                let j = 2 &* g
                let first = s &* 8 &+ j
                sums.add(even: _mm256_and_si256(q, mask), odd: _mm256_and_si256(_mm256_srli_epi16(q, 8), mask), block: first, weightScale: d * Float(scales[j]))
                sums.add(
                    even: _mm256_and_si256(_mm256_srli_epi16(q, 4), mask), odd: _mm256_srli_epi16(q, 12), block: first &+ 1,
                    weightScale: d * Float(scales[j &+ 1]))
                sums.addOffset(-dmin * Float(mins[j]), block: first)
                sums.addOffset(-dmin * Float(mins[j &+ 1]), block: first &+ 1)
            }
        }
        return sums
    }

    static func wideColumnsQ5_KAVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, superBlocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        let lowMask = _mm256_set1_epi8(0x0F)
        let one = _mm256_set1_epi8(1)
        let lowBytes = _mm256_set1_epi16(0x00FF)
        for s in 0..<superBlocks {
            let block = row + s &* 176
            let (d, dmin) = halfPairF16C(block, 0)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            var highBits = load256(block + 16)
            for g in 0..<4 {
                let q = load256(block + (48 &+ g &* 32))
                let low = _mm256_or_si256(_mm256_and_si256(q, lowMask), _mm256_slli_epi16(_mm256_and_si256(highBits, one), 4))
                let high = _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(q, 4), lowMask),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(highBits, 1), one), 4)
                )
                highBits = _mm256_srli_epi16(highBits, 2)
                let j = 2 &* g
                let first = s &* 8 &+ j
                sums.add(even: _mm256_and_si256(low, lowBytes), odd: _mm256_srli_epi16(low, 8), block: first, weightScale: d * Float(scales[j]))
                sums.add(
                    even: _mm256_and_si256(high, lowBytes), odd: _mm256_srli_epi16(high, 8), block: first &+ 1,
                    weightScale: d * Float(scales[j &+ 1]))
                sums.addOffset(-dmin * Float(mins[j]), block: first)
                sums.addOffset(-dmin * Float(mins[j &+ 1]), block: first &+ 1)
            }
        }
        return sums
    }

    /// Q6_K: as `wideDotQ6_KAVX2`, the weights of each chunk of 32 multiplied by their two int8
    /// sub-block scales in int16 before the columns' multiply-adds.
    static func wideColumnsQ6_KAVX2(_ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, superBlocks: Int) -> WideColumnAccumulators {
        var sums = WideColumnAccumulators(a, columns: columns)
        let lowMask = _mm256_set1_epi8(0x0F)
        let bits45 = _mm256_set1_epi8(0x30)
        let thirtyTwo = _mm256_set1_epi8(32)
        for s in 0..<superBlocks {
            let block = row + s &* 210
            let d = halfByMultiply(block.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
            for h in 0..<2 {
                let ql0 = load256(block + h &* 64)
                let ql1 = load256(block + (h &* 64 &+ 32))
                let qh = load256(block + (128 &+ h &* 32))
                let sc = block + (192 &+ h &* 8)
                let scales16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(Int64(bitPattern: sc.loadUnaligned(as: UInt64.self)))))
                let q0 = _mm256_or_si256(_mm256_and_si256(ql0, lowMask), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45))
                let q1 = _mm256_or_si256(_mm256_and_si256(ql1, lowMask), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45))
                let q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), lowMask), _mm256_and_si256(qh, bits45))
                let q3 = _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), lowMask), _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45)
                )
                let first = s &* 8 &+ h &* 4
                let p0 = q6ScaledPlanes(_mm256_sub_epi8(q0, thirtyTwo), scales16, 0)
                sums.add(even: p0.even, odd: p0.odd, block: first, weightScale: d)
                let p1 = q6ScaledPlanes(_mm256_sub_epi8(q1, thirtyTwo), scales16, 1)
                sums.add(even: p1.even, odd: p1.odd, block: first &+ 1, weightScale: d)
                let p2 = q6ScaledPlanes(_mm256_sub_epi8(q2, thirtyTwo), scales16, 2)
                sums.add(even: p2.even, odd: p2.odd, block: first &+ 2, weightScale: d)
                let p3 = q6ScaledPlanes(_mm256_sub_epi8(q3, thirtyTwo), scales16, 3)
                sums.add(even: p3.even, odd: p3.odd, block: first &+ 3, weightScale: d)
            }
        }
        return sums
    }

    /// Chunk k's 32 signed Q6_K weights (−32...31, element order) as even and odd 16-bit lanes,
    /// the first 16 multiplied by int16 scale 2k of `scales16`, the last 16 by scale 2k+1.
    @inline(__always)
    static func q6ScaledPlanes(_ w: __m256i, _ scales16: __m256i, _ k: Int) -> (even: __m256i, odd: __m256i) {
        let low = Int16(4 &* k) | Int16(4 &* k &+ 1) << 8
        let high = Int16(4 &* k &+ 2) | Int16(4 &* k &+ 3) << 8
        let scale = _mm256_shuffle_epi8(scales16, _mm256_set_m128i(_mm_set1_epi16(high), _mm_set1_epi16(low)))
        return (_mm256_mullo_epi16(_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), scale), _mm256_mullo_epi16(_mm256_srai_epi16(w, 8), scale))
    }
}
#endif
