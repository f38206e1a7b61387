#if arch(x86_64)
import CPrefetch
import _Builtin_intrinsics.intel

/// Eight weight rows at a time against 1...4 activation columns, on Q4_0, Q4_1, Q5_0, Q8_0, Q4_K
/// and Q6_K weights repacked at load into CartridgeGGML's interleaved layout
/// (`InterleavedMatrix`): for each block of 32, the
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
/// - Q5_0: 8 fp16 d, 8 masks of 32 bits (mask t: bit 4j + i is row j's fifth bit of slot
///   4t + i), then the 4 chunks of low nibbles as Q4_0. 176 bytes (as the 8 ggml rows).
/// - Q4_K (per super-block of 256): 8 fp16 d, 8 fp16 dmin, the 6-bit sub-block scales as bytes
///   (64 at 32: sub-block k's eight rows at 32 + 8k), the mins likewise (64 at 96), then per
///   sub-block the 4 chunks of nibbles as Q4_0 (8 × 128 at 160). 1184 bytes (the 8 ggml rows:
///   1152).
/// - Q6_K (per super-block of 256): 8 fp16 d, the int8 scales of the 16 sub-blocks of 16
///   (128: sub-block h's eight rows at 16 + 8h), per sub-block of 32 the 4 chunks of low nibbles
///   as Q4_0 (8 × 128, at 144), then per sub-block of 32 and quad t two 32-bit masks of the
///   fifth and sixth bits (8 × 64, at 1168). 1680 bytes (as the 8 ggml rows).
/// - Q8_0: 8 fp16 d, then 8 quads of 32 bytes; byte 4j + i of quad t holds row j's weight + 128
///   of slot 4t + i. 272 bytes (as the 8 ggml rows).
/// Slots are the activation's quant order (each block's even elements, then its odd ones).
public enum InterleavedKernels {
    /// Bytes of one group's block per type, as above.
    public static let q4_0BlockBytes = 144
    public static let q4_1BlockBytes = 160
    public static let q5_0BlockBytes = 176
    public static let q8_0BlockBytes = 272
    public static let q4_KBlockBytes = 1184
    public static let q6_KBlockBytes = 1680

    /// Eight 32-bit lanes of four weights each: a block's 32 weights of eight rows.
    struct Quads {
        var w0, w1, w2, w3, w4, w5, w6, w7: __m256i
    }

    /// How far ahead of the block being multiplied the weights are prefetched, in bytes, when
    /// a group has more than one column (one column is bound by reading the weights, and the
    /// hardware prefetcher alone did better there: software prefetch cost it 4-5 %).
    static let prefetchDistance = 2048

    /// Prefetches the `bytes` bytes `prefetchDistance` past `block` for a group of several
    /// columns (a group's blocks are contiguous, and so are the groups of a product's rows).
    @inline(__always)
    static func prefetch(_ block: UnsafeRawPointer, bytes: Int, columns: Int) {
        guard columns > 1 else { return }
        var offset = 0
        while offset < bytes {
            cartridge_prefetch(block + (prefetchDistance &+ offset))
            offset &+= 64
        }
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

    /// Q5_0's quads: the low nibbles of the chunks at p + 32, plus 16 under each quad's mask of
    /// fifth bits (the 32-bit words at p; `vpaddb` under a mask register): weights 0...31.
    @inline(__always)
    static func fiveBitQuads(_ p: UnsafeRawPointer) -> Quads {
        var w = nibbleQuads(p + 32)
        let sixteen = _mm256_set1_epi8(16)
        @inline(__always) func high(_ v: __m256i, _ t: Int) -> __m256i {
            _mm256_mask_add_epi8(v, p.loadUnaligned(fromByteOffset: 4 &* t, as: UInt32.self), v, sixteen)
        }
        w.w0 = high(w.w0, 0)
        w.w1 = high(w.w1, 1)
        w.w2 = high(w.w2, 2)
        w.w3 = high(w.w3, 3)
        w.w4 = high(w.w4, 4)
        w.w5 = high(w.w5, 5)
        w.w6 = high(w.w6, 6)
        w.w7 = high(w.w7, 7)
        return w
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
        for b in 0..<blocks {
            let block = group + b &* q4_0BlockBytes
            prefetch(block, bytes: q4_0BlockBytes, columns: x.count)
            let w = nibbleQuads(block + 16)
            // − 8 · Σ x in the integers (the weights are q = w + 8): off the FMA pipes, which the
            // vpdpbusd share.
            acc.add(x, block: b, scales: halves(block), offsets: nil) { _mm256_sub_epi32(sums(w, $0), _mm256_slli_epi32(broadcast($0 + 64), 3)) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    public static func rowsQ4_1(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        for b in 0..<blocks {
            let block = group + b &* q4_1BlockBytes
            prefetch(block, bytes: q4_1BlockBytes, columns: x.count)
            let w = nibbleQuads(block + 32)
            acc.add(x, block: b, scales: halves(block), offsets: halves(block + 16)) { sums(w, $0) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    public static func rowsQ5_0(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        for b in 0..<blocks {
            let block = group + b &* q5_0BlockBytes
            prefetch(block, bytes: q5_0BlockBytes, columns: x.count)
            let w = fiveBitQuads(block + 16)
            // − 16 · Σ x in the integers, as Q4_0's − 8.
            acc.add(x, block: b, scales: halves(block), offsets: nil) { _mm256_sub_epi32(sums(w, $0), _mm256_slli_epi32(broadcast($0 + 64), 4)) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    /// As the others, `blocks` counting super-blocks of 256: per sub-block of 32 the scales are
    /// d · scale (as ggml's dequantization computes them) and the offsets −dmin · min.
    public static func rowsQ4_K(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        for s in 0..<blocks {
            let block = group + s &* q4_KBlockBytes
            prefetch(block, bytes: q4_KBlockBytes, columns: x.count)
            let d = halves(block)
            let minusMin = _mm256_sub_ps(_mm256_setzero_ps(), halves(block + 16))
            for k in 0..<8 {
                let scales = _mm256_mul_ps(d, bytesAsFloats(block + (32 &+ 8 &* k)))
                let offsets = _mm256_mul_ps(minusMin, bytesAsFloats(block + (96 &+ 8 &* k)))
                let w = nibbleQuads(block + (160 &+ 128 &* k))
                acc.add(x, block: s &* 8 &+ k, scales: scales, offsets: offsets) { sums(w, $0) }
            }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    /// As the others, `blocks` counting super-blocks of 256: 6-bit weights (0...63, − 32 in the
    /// integers with the activation's half-block sums), two int8 scales per block of 32 (one per
    /// 16 elements), so each block's two halves are summed and scaled apart.
    public static func rowsQ6_K(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        let sixteen = _mm256_set1_epi8(16), thirtyTwo = _mm256_set1_epi8(32)
        for s in 0..<blocks {
            let block = group + s &* q6_KBlockBytes
            prefetch(block, bytes: q6_KBlockBytes, columns: x.count)
            let d = halves(block)
            for k in 0..<8 {
                let scalesA = _mm256_mul_ps(d, signedBytesAsFloats(block + (16 &+ 16 &* k)))
                let scalesB = _mm256_mul_ps(d, signedBytesAsFloats(block + (24 &+ 16 &* k)))
                var w = nibbleQuads(block + (144 &+ 128 &* k))
                let masks = block + (1168 &+ 64 &* k)
                @inline(__always) func high(_ v: __m256i, _ t: Int) -> __m256i {
                    let fifth = masks.loadUnaligned(fromByteOffset: 8 &* t, as: UInt32.self)
                    let sixth = masks.loadUnaligned(fromByteOffset: 8 &* t &+ 4, as: UInt32.self)
                    let withFifth = _mm256_mask_add_epi8(v, fifth, v, sixteen)
                    return _mm256_mask_add_epi8(withFifth, sixth, withFifth, thirtyTwo)
                }
                w.w0 = high(w.w0, 0)
                w.w1 = high(w.w1, 1)
                w.w2 = high(w.w2, 2)
                w.w3 = high(w.w3, 3)
                w.w4 = high(w.w4, 4)
                w.w5 = high(w.w5, 5)
                w.w6 = high(w.w6, 6)
                w.w7 = high(w.w7, 7)
                acc.addHalves(x, block: s &* 8 &+ k, scalesA: scalesA, scalesB: scalesB) { planes in
                    let (a, b) = halfSums(w, planes)
                    // − 32 · Σ x over each half (the weights are q6 = w + 32).
                    return (_mm256_sub_epi32(a, _mm256_slli_epi32(broadcast(planes + 68), 5)), _mm256_sub_epi32(b, _mm256_slli_epi32(broadcast(planes + 72), 5)))
                }
            }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }

    /// The eight rows' sums over elements 0..<16 (quads 0, 1, 4, 5: slots 0..<8 and 16..<24) and
    /// over elements 16..<32 (quads 2, 3, 6, 7), as `sums`.
    @inline(__always)
    static func halfSums(_ w: Quads, _ planes: UnsafeRawPointer) -> (__m256i, __m256i) {
        let hi = planes + 32
        var loA = dotAdd(_mm256_setzero_si256(), w.w0, broadcast(planes))
        var loB = dotAdd(_mm256_setzero_si256(), w.w2, broadcast(planes + 8))
        var hiA = dotAdd(_mm256_setzero_si256(), w.w0, broadcast(hi))
        var hiB = dotAdd(_mm256_setzero_si256(), w.w2, broadcast(hi + 8))
        loA = dotAdd(loA, w.w1, broadcast(planes + 4))
        loB = dotAdd(loB, w.w3, broadcast(planes + 12))
        hiA = dotAdd(hiA, w.w1, broadcast(hi + 4))
        hiB = dotAdd(hiB, w.w3, broadcast(hi + 12))
        loA = dotAdd(loA, w.w4, broadcast(planes + 16))
        loB = dotAdd(loB, w.w6, broadcast(planes + 24))
        hiA = dotAdd(hiA, w.w4, broadcast(hi + 16))
        hiB = dotAdd(hiB, w.w6, broadcast(hi + 24))
        loA = dotAdd(loA, w.w5, broadcast(planes + 20))
        loB = dotAdd(loB, w.w7, broadcast(planes + 28))
        hiA = dotAdd(hiA, w.w5, broadcast(hi + 20))
        hiB = dotAdd(hiB, w.w7, broadcast(hi + 28))
        return (_mm256_add_epi32(_mm256_slli_epi32(hiA, 8), loA), _mm256_add_epi32(_mm256_slli_epi32(hiB, 8), loB))
    }

    /// Eight signed bytes at p as fp32.
    @inline(__always)
    static func signedBytesAsFloats(_ p: UnsafeRawPointer) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self))))
    }

    /// Eight unsigned bytes at p as fp32.
    @inline(__always)
    static func bytesAsFloats(_ p: UnsafeRawPointer) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self))))
    }

    public static func rowsQ8_0(_ group: UnsafeRawPointer, _ x: WideColumnGroup, blocks: Int, into out: UnsafeMutablePointer<Float>, stride: Int) {
        var acc = InterleavedAccumulators()
        for b in 0..<blocks {
            let block = group + b &* q8_0BlockBytes
            prefetch(block, bytes: q8_0BlockBytes, columns: x.count)
            let w = byteQuads(block + 16)
            // − 128 · Σ x: the weights are stored + 128.
            acc.add(x, block: b, scales: halves(block), offsets: nil) { _mm256_sub_epi32(sums(w, $0), _mm256_slli_epi32(broadcast($0 + 64), 7)) }
        }
        acc.store(into: out, stride: stride, columns: x.count)
    }
}
#endif
