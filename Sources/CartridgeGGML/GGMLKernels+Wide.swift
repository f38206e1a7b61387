/// The 16-bit activation kernels: near-exact quantized dots at close to the 8-bit kernels' speed.
///
/// The activation is quantized once per matrix into int16 blocks of 32
/// (`quantize(_:count:into:)` with a `WideQuantizedActivation`, which stores each block's even
/// elements before its odd ones); each weight row is unpacked to one int8 per weight (every
/// supported type's unpacked values fit: Q8_0 −128...127, Q4_0/Q5_0 re-centred to −8...7 /
/// −16...15 in the integers, Q4_1/Q5_1/Q4_K/Q5_K 0...31, Q6_K −32...31), split by shifts and
/// masks into 16-bit lanes of even and of odd elements (sign-extended), and multiplied with the
/// activation quants by a 16 × 16 → 32-bit multiply-add of adjacent pairs (AVX2 `vpmaddwd`; the
/// portable path's shift/multiply form compiles to the same instruction on x86-64). Each block's
/// (each K sub-block's) int32 lane sums are converted to fp32 once and scaled by the weight scale
/// × the activation scale.
///
/// No int32 overflow: an int32 lane holds at most 8 products of one block of 32 (4 in the AVX2
/// kernels), and the whole block at most 32, with |activation quant| ≤ 32639 (the bounds below use 32767, above it):
/// - Q8_0: 32 · 128 · 32767 = 134,213,632 < 2³¹ (even summed over the block).
/// - Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K: |w| ≤ 31: 32 · 31 · 32767 = 32,505,664.
/// - Q6_K: weights are multiplied by their int8 sub-block scale in int16 first
///   (|q − 32| · |scale| ≤ 32 · 128 = 4096 fits int16); a lane holds at most 8 products:
///   8 · 4096 · 32767 = 1,073,709,056 < 2³¹, converted to fp32 per lane in AVX2 and summed in
///   Int64 in the portable path (the block total, up to 32 · 4096 · 32767 ≈ 4.3e9, is never
///   formed in int32).
///
/// Accuracy: the integer sums are exact, so a wide dot equals (up to fp32 rounding of the scale
/// products, the int32 → fp32 conversions and the accumulation order: ~1e-7 of Σ|wᵢx̂ᵢ|) the exact
/// dot of the dequantized row with the dequantized activation. Against the unquantized
/// activation each element carries at most half a step, scale/2 = max|x_block|/65278, so
/// |error| ≤ Σ_blocks (max|x_block| / 65278) · Σ_block |wᵢ|, 257 times below the 8-bit bound.
extension GGMLKernels {
    /// Quantizes x[0..<count] (count a multiple of 32, at most `activation.capacity`) into
    /// `activation`: per block of 32, scale d = max|x|/32639, quants round(x/d) (ties to even,
    /// |q| ≤ 32639, `WideQuantizedActivation.maximumQuant`), sum d·Σq; an all-zero block gets
    /// d = 0 and zero quants. x must be finite. Fills the byte planes too when the interleaved
    /// kernels run.
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, into activation: WideQuantizedActivation) {
        precondition(count >= 0 && count % 32 == 0, "GGMLKernels.quantize: count \(count) is not a multiple of 32")
        precondition(count <= activation.capacity, "GGMLKernels.quantize: count \(count) exceeds the wide activation capacity \(activation.capacity)")
        #if arch(x86_64)
        wideQuantizeAVX2(x, blocks: count / 32, into: activation, planes: InterleavedMatrix.isAvailable)
        #else
        portableWideQuantize(x, blocks: count / 32, into: activation)
        if InterleavedMatrix.isAvailable { splitPlanes(activation, blocks: count / 32) }
        #endif
    }

    /// Fills `planes` of blocks 0..<blocks from the quants: the signed low parts
    /// lo = ((q + 128) mod 256) − 128 and high parts hi = (q − lo) / 256 (each in quant order),
    /// the block's int32 Σ q, and the int32 Σ q of its elements 0..<16 and 16..<32 (what the
    /// interleaved kernels multiply and correct with). The portable pass; on x86-64 `quantize`
    /// fills the planes in its AVX2 loop.
    public static func splitPlanes(_ a: WideQuantizedActivation, blocks: Int) {
        precondition(blocks >= 0 && blocks * 32 <= a.capacity, "GGMLKernels.splitPlanes: \(blocks) blocks exceed the capacity \(a.capacity)")
        let bias = SIMD16<Int16>(repeating: 128)
        for b in 0..<blocks {
            let quants = UnsafeRawPointer(a.quants + b &* 32)
            let out = UnsafeMutableRawPointer(a.planes + b &* 96)
            var total: Int32 = 0, first: Int32 = 0
            for half in 0..<2 {
                let v = quants.loadUnaligned(fromByteOffset: half &* 32, as: SIMD16<Int16>.self)
                // Elements 0..<16 sit in slots 0..<8 and 16..<24.
                first &+= SIMD8<Int32>(truncatingIfNeeded: v.lowHalf).wrappedSum()
                let low = ((v &+ bias) & 0xFF) &- bias
                let high = (v &- low) &>> 8
                out.storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: low), toByteOffset: half &* 16, as: SIMD16<Int8>.self)
                out.storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: high), toByteOffset: 32 &+ half &* 16, as: SIMD16<Int8>.self)
                total &+= SIMD16<Int32>(truncatingIfNeeded: v).wrappedSum()
            }
            out.storeBytes(of: total, toByteOffset: 64, as: Int32.self)
            out.storeBytes(of: first, toByteOffset: 68, as: Int32.self)
            out.storeBytes(of: total &- first, toByteOffset: 72, as: Int32.self)
        }
    }

    /// Row · x for a row of a quantized `type` (`usesQuantizedActivation(type)`), where the row
    /// holds `count` elements (`type.rowByteCount(elements: count)` bytes) and `wideActivation`
    /// holds x quantized by `quantize(_:count:into:)` (at least `count` elements). count must be
    /// a multiple of 32 (of 256 for the K types).
    @inline(__always)
    public static func dot(_ type: GGMLType, row: UnsafeRawPointer, wideActivation a: WideQuantizedActivation, count: Int) -> Float {
        precondition(count >= 0 && count <= a.capacity, "GGMLKernels.dot: count \(count) exceeds the wide activation capacity \(a.capacity)")
        #if arch(x86_64)
        if KernelInstructionSet.active == .avx512VNNI, let result = vnniDot(type, row, a, count: count) { return result }
        #endif
        let blocks32 = count >> 5
        let blocks256 = count >> 8
        switch type.rawValue {
        case 8:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q8_0 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return wideDotQ8_0AVX2(row, a, blocks: blocks32)
            #else
            return portableWideDotQ8_0(row, a, blocks: blocks32)
            #endif
        case 2:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q4_0 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return wideDotQ4_0AVX2(row, a, blocks: blocks32)
            #else
            return portableWideDotQ4_0(row, a, blocks: blocks32)
            #endif
        case 3:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q4_1 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return wideDotQ4_1AVX2(row, a, blocks: blocks32)
            #else
            return portableWideDotQ4_1(row, a, blocks: blocks32)
            #endif
        case 6:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q5_0 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return wideDotQ5_0AVX2(row, a, blocks: blocks32)
            #else
            return portableWideDotQ5_0(row, a, blocks: blocks32)
            #endif
        case 7:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q5_1 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return wideDotQ5_1AVX2(row, a, blocks: blocks32)
            #else
            return portableWideDotQ5_1(row, a, blocks: blocks32)
            #endif
        case 12:
            precondition(count & 255 == 0, "GGMLKernels.dot: Q4_K row of \(count) elements is not a multiple of 256")
            #if arch(x86_64)
            return wideDotQ4_KAVX2(row, a, superBlocks: blocks256)
            #else
            return portableWideDotQ4_K(row, a, superBlocks: blocks256)
            #endif
        case 13:
            precondition(count & 255 == 0, "GGMLKernels.dot: Q5_K row of \(count) elements is not a multiple of 256")
            #if arch(x86_64)
            return wideDotQ5_KAVX2(row, a, superBlocks: blocks256)
            #else
            return portableWideDotQ5_K(row, a, superBlocks: blocks256)
            #endif
        case 14:
            precondition(count & 255 == 0, "GGMLKernels.dot: Q6_K row of \(count) elements is not a multiple of 256")
            #if arch(x86_64)
            return wideDotQ6_KAVX2(row, a, superBlocks: blocks256)
            #else
            return portableWideDotQ6_K(row, a, superBlocks: blocks256)
            #endif
        default:
            preconditionFailure("GGMLKernels.dot: \(type) rows are not dotted with a quantized activation (check usesQuantizedActivation and GGMLType.isSupported first)")
        }
    }
}
