#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Eight weight rows at a time against 1...4 activation columns, on weights repacked at load
/// into CartridgeGGML's interleaved layout (`InterleavedMatrix`): for each block of 32, the
/// eight rows' weights are laid out so that one 32-bit lane holds four consecutive weights of one
/// row, lane j for row j. One `vpdpbusd` with four activation bytes broadcast to every lane then
/// adds four products to each of the eight rows' sums at once, and after a block the eight lanes
/// are the eight rows' exact block sums: no horizontal sums, and the block's conversion and FMA
/// serve eight rows (the row kernels pay both per row).
///
/// The activations are the same 16-bit block quants as the row kernels', split into signed
/// bytes (CartridgeGGML's `WideQuantizedActivation.planes`): x = 256·hi + lo, so
/// Σ w·x = 256·Σ w·hi + Σ w·lo exactly, two `vpdpbusd` per four weights. `vpdpbusd` multiplies
/// unsigned bytes by signed ones, so the weights are the unsigned side: 4-bit weights as they are
/// (0...15), Q8_0's signed weights stored + 128 (0...255), which adds 128·Σ x to each sum; the
/// planes carry each block's Σ x (an int32), and 128·Σ x comes off in the integers. The integer
/// sums are then those of the row kernels, bit for bit; only the fp32 accumulation order
/// differs.
///
/// Layout of a group's block (CartridgeGGML's `InterleavedMatrix` writes it):
/// - Q4_0: 8 fp16 d, then 4 chunks of 32 bytes; byte 4j + i of chunk c holds row j's weights of
///   quant slots 8c + i (low nibble) and 8c + 4 + i (high nibble). 144 bytes.
/// - Q4_1: 8 fp16 d, 8 fp16 m, then the 4 chunks as Q4_0. 160 bytes.
/// - Q8_0: 8 fp16 d, then 8 quads of 32 bytes; byte 4j + i of quad t holds row j's weight + 128
///   of slot 4t + i. 272 bytes (as the 8 ggml rows).
/// Slots are the activation's quant order (each block's even elements, then its odd ones).
public enum InterleavedKernels {
    /// Bytes of one group's block per type, as above.
    public static let q4_0BlockBytes = 144
    public static let q4_1BlockBytes = 160
    public static let q8_0BlockBytes = 272

    /// Eight 32-bit lanes of four weights each: a block's 32 weights of eight rows.
    struct Quads {
        var w0, w1, w2, w3, w4, w5, w6, w7: __m256i
    }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
    }

    @inline(__always)
    static func broadcast(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_set1_epi32(Int32(bitPattern: p.loadUnaligned(as: UInt32.self)))
    }

    /// acc + Σ over each lane's four byte pairs of unsigned a × signed b (`vpdpbusd`; the
    /// unmasked 256-bit form is a C macro).
    @inline(__always)
    static func dotAdd(_ acc: __m256i, _ a: __m256i, _ b: __m256i) -> __m256i {
        _mm256_mask_dpbusd_epi32(acc, 0xFF, a, b)
    }

    /// Eight fp16 values at p as fp32.
    @inline(__always)
    static func halves(_ p: UnsafeRawPointer) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self)))
    }

    /// The four chunks of nibbles at p as eight quads (weights 0...15).
    @inline(__always)
    static func nibbleQuads(_ p: UnsafeRawPointer) -> Quads {
        let mask = _mm256_set1_epi8(0x0F)
        @inline(__always) func split(_ raw: __m256i) -> (__m256i, __m256i) {
            (_mm256_and_si256(raw, mask), _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask))
        }
        let (w0, w1) = split(load(p))
        let (w2, w3) = split(load(p + 32))
        let (w4, w5) = split(load(p + 64))
        let (w6, w7) = split(load(p + 96))
        return Quads(w0: w0, w1: w1, w2: w2, w3: w3, w4: w4, w5: w5, w6: w6, w7: w7)
    }

    @inline(__always)
    static func byteQuads(_ p: UnsafeRawPointer) -> Quads {
        Quads(
            w0: load(p), w1: load(p + 32), w2: load(p + 64), w3: load(p + 96),
            w4: load(p + 128), w5: load(p + 160), w6: load(p + 192), w7: load(p + 224))
    }

    /// The eight rows' block sums Σ w·x with unsigned weights w (the quads) and the column's
    /// block of planes (signed lo at 0, hi at 32, as x = 256·hi + lo).
    @inline(__always)
    static func sums(_ w: Quads, _ planes: UnsafeRawPointer) -> __m256i {
        let hi = planes + 32
        var lo0 = dotAdd(_mm256_setzero_si256(), w.w0, broadcast(planes))
        var lo1 = dotAdd(_mm256_setzero_si256(), w.w1, broadcast(planes + 4))
        var hi0 = dotAdd(_mm256_setzero_si256(), w.w0, broadcast(hi))
        var hi1 = dotAdd(_mm256_setzero_si256(), w.w1, broadcast(hi + 4))
        lo0 = dotAdd(lo0, w.w2, broadcast(planes + 8))
        lo1 = dotAdd(lo1, w.w3, broadcast(planes + 12))
        hi0 = dotAdd(hi0, w.w2, broadcast(hi + 8))
        hi1 = dotAdd(hi1, w.w3, broadcast(hi + 12))
        lo0 = dotAdd(lo0, w.w4, broadcast(planes + 16))
        lo1 = dotAdd(lo1, w.w5, broadcast(planes + 20))
        hi0 = dotAdd(hi0, w.w4, broadcast(hi + 16))
        hi1 = dotAdd(hi1, w.w5, broadcast(hi + 20))
        lo0 = dotAdd(lo0, w.w6, broadcast(planes + 24))
        lo1 = dotAdd(lo1, w.w7, broadcast(planes + 28))
        hi0 = dotAdd(hi0, w.w6, broadcast(hi + 24))
        hi1 = dotAdd(hi1, w.w7, broadcast(hi + 28))
        return _mm256_add_epi32(_mm256_slli_epi32(_mm256_add_epi32(hi0, hi1), 8), _mm256_add_epi32(lo0, lo1))
    }

    // MARK: Kernels

    /// out[c · stride + j] = row j of the group · column c, for j in 0..<8 and c in
    /// 0..<x.count; `group` points at the group's first block, `blocks` blocks per row.
    public static func rowsQ4_0(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        let minusEight = _mm256_set1_ps(-8)
        for b in 0..<blocks {
            let block = group + b &* q4_0BlockBytes
            let d = halves(block)
            let w = nibbleQuads(block + 16)
            acc.add(x, block: b, scales: d, offsets: _mm256_mul_ps(d, minusEight)) { sums(w, $0) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    public static func rowsQ4_1(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        for b in 0..<blocks {
            let block = group + b &* q4_1BlockBytes
            let w = nibbleQuads(block + 32)
            acc.add(x, block: b, scales: halves(block), offsets: halves(block + 16)) { sums(w, $0) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    public static func rowsQ8_0(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        for b in 0..<blocks {
            let block = group + b &* q8_0BlockBytes
            let w = byteQuads(block + 16)
            // − 128 · Σ x: the weights are stored + 128.
            acc.add(x, block: b, scales: halves(block), offsets: nil) { _mm256_sub_epi32(sums(w, $0), _mm256_slli_epi32(broadcast($0 + 64), 7)) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }
}
#endif
