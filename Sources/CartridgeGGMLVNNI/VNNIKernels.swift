#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The AVX-512 VNNI forms of CartridgeGGML's 16-bit activation kernels (same activation layout,
/// same exact integer sums, same scaling; see `GGMLKernels+Wide.swift` there for the scheme and
/// the int32 overflow bounds). This module is compiled for an AVX-512 VNNI CPU
/// (`-target-cpu cascadelake` with the `fast-dpwssd` tuning in Package.swift), so nothing in it
/// may run before `cartridge_cpu_runs_avx512_vnni()` said yes: CartridgeGGML asks once and calls
/// in here only then (`KernelInstructionSet.active`).
///
/// Two things differ from the AVX2 kernels, both on 256-bit registers (AVX-512VL: a Zen 4 core
/// splits 512-bit operations in two, so wider registers would not do more work per cycle):
/// - `vpdpwssd` multiplies 16-bit pairs and adds them to the int32 accumulator in one
///   instruction, where AVX2 needs `vpmaddwd` and `vpaddd`: 3 instructions per block and
///   column become 2.
/// - 4-bit weights are unpacked by a per-lane variable shift (`vpsrlvd`) of the 16 packed bytes
///   broadcast to both halves: 2 shifts and 2 masks, where the AVX2 kernels use 128-bit shifts,
///   masks and two lane inserts (the AVX2 form was the faster one on Zen 1, where `vpsrlvd`
///   on 256 bits costs two micro-ops).
///
/// The small helpers (loads, fp16 pairs, the horizontal sum) repeat CartridgeGGML's AVX2 ones on
/// purpose: they are compiled here for the other CPU, and this module cannot import that one
/// (CartridgeGGML depends on this module, to dispatch to it).
public enum VNNIKernels {
    // MARK: Helpers

    @inline(__always)
    static func load256(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
    }

    /// acc + Σ of adjacent int16 pair products of a and b, per int32 lane (`vpdpwssd`; the
    /// all-ones mask compiles to the unmasked instruction: the unmasked 256-bit form is a C
    /// macro Swift cannot import).
    @inline(__always)
    static func dotAdd(_ acc: __m256i, _ a: __m256i, _ b: __m256i) -> __m256i {
        _mm256_mask_dpwssd_epi32(acc, 0xFF, a, b)
    }

    /// Eight int32 lane sums of a block's even weights × its 16 even quants at x and odd
    /// weights × the 16 odd quants at x + 32 bytes.
    @inline(__always)
    static func blockDot(even: __m256i, odd: __m256i, _ x: UnsafeRawPointer) -> __m256i {
        dotAdd(_mm256_madd_epi16(even, load256(x)), odd, load256(x + 32))
    }

    /// The even and odd elements (16-bit lanes, 0...15) of a Q4_0/Q4_1 block's 16 bytes of
    /// nibbles: in a 16-bit lane of bytes (2i, 2i+1), elements 2i, 2i+1 sit at bits 0 and 8 and
    /// elements 16+2i, 17+2i at bits 4 and 12. The bytes are broadcast to both 128-bit halves
    /// and each half shifted by its own count; a 32-bit shift by s ≤ 12 followed by a 4-bit
    /// mask per 16-bit lane leaves each lane its own bits s..<s+4.
    @inline(__always)
    static func nibblePlanes(_ p: UnsafeRawPointer) -> (even: __m256i, odd: __m256i) {
        let bytes = _mm256_broadcastsi128_si256(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self)))
        let mask = _mm256_set1_epi16(0x000F)
        let even = _mm256_and_si256(_mm256_srlv_epi32(bytes, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), mask)
        let odd = _mm256_and_si256(_mm256_srlv_epi32(bytes, _mm256_setr_epi32(8, 8, 8, 8, 12, 12, 12, 12)), mask)
        return (even, odd)
    }

    /// Signed bytes (element order) as sign-extended even and odd 16-bit lanes.
    @inline(__always)
    static func signedPlanes(_ w: __m256i) -> (even: __m256i, odd: __m256i) {
        (_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), _mm256_srai_epi16(w, 8))
    }

    /// Q5_0's 32 weights (element order, −16...15): the nibbles, with 16 subtracted where the
    /// block's high bit (bit i of the 32-bit word at bits) is clear (`vpsubb` under a mask
    /// register loaded straight from the word).
    @inline(__always)
    static func q5_0Bytes(nibbles p: UnsafeRawPointer, bits: UnsafeRawPointer) -> __m256i {
        let packed = _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
        let nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F))
        let clear = ~bits.loadUnaligned(as: UInt32.self)
        return _mm256_mask_sub_epi8(nibbles, clear, nibbles, _mm256_set1_epi8(16))
    }

    /// The fp16 value at p as fp32, in general-purpose registers and one multiply: a lone fp16
    /// load converted by `vcvtph2ps` compiles to `vpinsrw` into whatever vector register is
    /// free, often an accumulator, chaining each block's scale to the previous block's FMA
    /// (these kernels measured 10 % slower than AVX2's that way). Shifting the exponent and
    /// mantissa into fp32 position and multiplying by 2¹¹² rebiases normal and subnormal
    /// values exactly; infinities and NaNs are assembled bit by bit.
    @inline(__always)
    static func half(_ p: UnsafeRawPointer) -> Float {
        let h = p.loadUnaligned(as: UInt16.self)
        let sign = UInt32(h & 0x8000) << 16
        if h & 0x7C00 == 0x7C00 { return Float(bitPattern: sign | 0x7F80_0000 | UInt32(h & 0x3FF) << 13) }
        return Float(bitPattern: (UInt32(h & 0x7FFF) << 13) | sign) * 0x1p112
    }

    /// The two consecutive fp16 values at p (a block's d and m) as fp32.
    @inline(__always)
    static func halfPair(_ p: UnsafeRawPointer) -> (Float, Float) {
        let v = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: p.loadUnaligned(as: UInt32.self))))
        return (v[0], v[1])
    }

    @inline(__always)
    static func horizontalSum(_ v: __m256) -> Float {
        let four = v.lowHalf + v.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    @inline(__always)
    static func accumulate(_ acc: inout __m256, _ sums: __m256i, _ scale: Float) {
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale), acc)
    }

    /// Runs `body(b, d, &acc)` over blocks 0..<blocks of `bytesPerBlock` bytes whose first two
    /// bytes are the fp16 scale d, on two accumulators, converting the two blocks' scales of
    /// each pair with one `vcvtph2ps` (as CartridgeGGML's AVX2 `scaledBlocks`); returns the sum.
    @inline(__always)
    static func scaledBlocks(_ row: UnsafeRawPointer, blocks: Int, bytesPerBlock: Int, _ body: (Int, Float, inout __m256) -> Void) -> __m256 {
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
        if b < blocks { body(b, half(row + b &* bytesPerBlock), &acc0) }
        return _mm256_add_ps(acc0, acc1)
    }

    // MARK: One column

    /// Row · x for a Q8_0 row of `blocks` blocks of 32.
    public static func dotQ8_0(_ row: UnsafeRawPointer, _ x: WideColumn, blocks: Int) -> Float {
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 34) { b, d, acc in
            let w = signedPlanes(load256(row + (b &* 34 &+ 2)))
            accumulate(&acc, blockDot(even: w.even, odd: w.odd, x.quants + b &* 64), d * x.scales[b])
        }
        return horizontalSum(acc)
    }

    /// Row · x for a Q4_0 row (re-centred in the integers, q − 8, as the AVX2 kernel does).
    public static func dotQ4_0(_ row: UnsafeRawPointer, _ x: WideColumn, blocks: Int) -> Float {
        let eight = _mm256_set1_epi16(8)
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 18) { b, d, acc in
            let q = nibblePlanes(row + (b &* 18 &+ 2))
            let sums = blockDot(even: _mm256_sub_epi16(q.even, eight), odd: _mm256_sub_epi16(q.odd, eight), x.quants + b &* 64)
            accumulate(&acc, sums, d * x.scales[b])
        }
        return horizontalSum(acc)
    }

    /// Row · x for a Q4_1 row: d · Σ q·x plus m · Σ x (from the activation's block sums).
    public static func dotQ4_1(_ row: UnsafeRawPointer, _ x: WideColumn, blocks: Int) -> Float {
        var offsets0: Float = 0, offsets1: Float = 0
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var b = 0
        while b &+ 2 <= blocks {
            let first = row + b &* 20, second = first + 20
            let dm0 = halfPair(first), dm1 = halfPair(second)
            let q0 = nibblePlanes(first + 4), q1 = nibblePlanes(second + 4)
            accumulate(&acc0, blockDot(even: q0.even, odd: q0.odd, x.quants + b &* 64), dm0.0 * x.scales[b])
            accumulate(&acc1, blockDot(even: q1.even, odd: q1.odd, x.quants + (b &* 64 &+ 64)), dm1.0 * x.scales[b &+ 1])
            offsets0 += dm0.1 * x.sums[b]
            offsets1 += dm1.1 * x.sums[b &+ 1]
            b &+= 2
        }
        if b < blocks {
            let block = row + b &* 20
            let dm = halfPair(block)
            let q = nibblePlanes(block + 4)
            accumulate(&acc0, blockDot(even: q.even, odd: q.odd, x.quants + b &* 64), dm.0 * x.scales[b])
            offsets0 += dm.1 * x.sums[b]
        }
        return horizontalSum(_mm256_add_ps(acc0, acc1)) + (offsets0 + offsets1)
    }

    /// Row · x for a Q5_0 row (q − 16 in −16...15, in the integers).
    public static func dotQ5_0(_ row: UnsafeRawPointer, _ x: WideColumn, blocks: Int) -> Float {
        let acc = scaledBlocks(row, blocks: blocks, bytesPerBlock: 22) { b, d, acc in
            let block = row + b &* 22
            let w = signedPlanes(q5_0Bytes(nibbles: block + 6, bits: block + 2))
            accumulate(&acc, blockDot(even: w.even, odd: w.odd, x.quants + b &* 64), d * x.scales[b])
        }
        return horizontalSum(acc)
    }
}
#endif
