/// The numeric kernels over ggml tensor rows: dequantization (bit-exact with ggml's reference
/// `dequantize_row_*`) and the dot products of the decoder's matrix-vector products.
///
/// Quantized weight rows are dotted llama.cpp style: the activation vector is quantized once per
/// matrix into 8-bit blocks of 32 (`quantize(_:count:into:)`), then each row's integer quants are
/// multiplied with it in integer SIMD (AVX2 `vpmaddubsw`/`vpmaddwd` on x86-64, a portable Swift
/// SIMD path elsewhere) and each block's int32 sum is scaled in fp32. F32/F16/BF16 rows are dotted
/// in fp32 with the unquantized vector (`dot(_:row:floats:count:)`).
///
/// Accuracy: the integer sums are exact, so a quantized dot equals (up to fp32 rounding of the
/// block scales and accumulation order: below 1e-6 of Σ|wᵢxᵢ|, observed ≤ 5e-8) the exact dot of the
/// dequantized row with the dequantized activation. Against the unquantized activation each
/// element of x carries an error of at most half a quantization step, scale/2 = max|x_block|/254,
/// so |error| ≤ Σ_blocks (max|x_block| / 254) · Σ_block |wᵢ| (about 0.4 % of Σ|wᵢ|·max|x| per block).
///
/// Callers check `GGMLType.isSupported` (and `usesQuantizedActivation`) before calling; a
/// kernel called with another type, a count that is not a whole number of blocks or a count
/// larger than the activation's capacity stops with a precondition failure naming the problem.
/// Rows are read with unaligned loads (GGUF tensor data is only guaranteed 32-byte aligned at the
/// tensor start, and rows of odd block counts are not).
public enum GGMLKernels {
    /// True for the types whose rows are dotted with a `QuantizedActivation` (every supported
    /// quantized type); false for F32, F16 and BF16 (dotted with the fp32 vector) and for
    /// unsupported types.
    public static func usesQuantizedActivation(_ type: GGMLType) -> Bool {
        switch type.rawValue {
        case 2, 3, 6, 7, 8, 12, 13, 14: return true  // Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K
        default: return false
        }
    }

    /// Quantizes x[0..<count] (count a multiple of 32, at most `activation.capacity`) into
    /// `activation`: per block of 32, scale d = max|x|/127, quants round(x/d) (ties to even,
    /// |q| ≤ 127), sum d·Σq; an all-zero block gets d = 0 and zero quants. x must be finite.
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, into activation: QuantizedActivation) {
        precondition(count >= 0 && count % 32 == 0, "GGMLKernels.quantize: count \(count) is not a multiple of 32")
        precondition(count <= activation.capacity, "GGMLKernels.quantize: count \(count) exceeds the activation capacity \(activation.capacity)")
        #if arch(x86_64)
        quantizeAVX2(x, blocks: count / 32, into: activation)
        #else
        portableQuantize(x, blocks: count / 32, into: activation)
        #endif
    }

    /// Row · x for a row of a quantized `type` (`usesQuantizedActivation(type)`), where the row
    /// holds `count` elements (`type.rowByteCount(elements: count)` bytes) and `activation` holds
    /// x quantized by `quantize` (at least `count` elements). count must be a multiple of 32 (of
    /// 256 for the K types).
    @inline(__always)
    public static func dot(_ type: GGMLType, row: UnsafeRawPointer, activation: QuantizedActivation, count: Int) -> Float {
        precondition(count >= 0 && count <= activation.capacity, "GGMLKernels.dot: count \(count) exceeds the activation capacity \(activation.capacity)")
        let blocks32 = count >> 5
        let blocks256 = count >> 8
        switch type.rawValue {
        case 8:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q8_0 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return dotQ8_0AVX2(row, activation, blocks: blocks32)
            #else
            return portableDotQ8_0(row, activation, blocks: blocks32)
            #endif
        case 2:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q4_0 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return dotQ4_0AVX2(row, activation, blocks: blocks32)
            #else
            return portableDotQ4_0(row, activation, blocks: blocks32)
            #endif
        case 3:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q4_1 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return dotQ4_1AVX2(row, activation, blocks: blocks32)
            #else
            return portableDotQ4_1(row, activation, blocks: blocks32)
            #endif
        case 6:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q5_0 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return dotQ5_0AVX2(row, activation, blocks: blocks32)
            #else
            return portableDotQ5_0(row, activation, blocks: blocks32)
            #endif
        case 7:
            precondition(count & 31 == 0, "GGMLKernels.dot: Q5_1 row of \(count) elements is not a multiple of 32")
            #if arch(x86_64)
            return dotQ5_1AVX2(row, activation, blocks: blocks32)
            #else
            return portableDotQ5_1(row, activation, blocks: blocks32)
            #endif
        case 12:
            precondition(count & 255 == 0, "GGMLKernels.dot: Q4_K row of \(count) elements is not a multiple of 256")
            #if arch(x86_64)
            return dotQ4_KAVX2(row, activation, superBlocks: blocks256)
            #else
            return portableDotQ4_K(row, activation, superBlocks: blocks256)
            #endif
        case 13:
            precondition(count & 255 == 0, "GGMLKernels.dot: Q5_K row of \(count) elements is not a multiple of 256")
            #if arch(x86_64)
            return dotQ5_KAVX2(row, activation, superBlocks: blocks256)
            #else
            return portableDotQ5_K(row, activation, superBlocks: blocks256)
            #endif
        case 14:
            precondition(count & 255 == 0, "GGMLKernels.dot: Q6_K row of \(count) elements is not a multiple of 256")
            #if arch(x86_64)
            return dotQ6_KAVX2(row, activation, superBlocks: blocks256)
            #else
            return portableDotQ6_K(row, activation, superBlocks: blocks256)
            #endif
        default:
            preconditionFailure("GGMLKernels.dot: \(type) rows are not dotted with a quantized activation (check usesQuantizedActivation and GGMLType.isSupported first)")
        }
    }

    /// Row · x in fp32 for an F32, F16 or BF16 row of `count` elements (any count) and the
    /// unquantized fp32 vector x.
    @inline(__always)
    public static func dot(_ type: GGMLType, row: UnsafeRawPointer, floats x: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count >= 0, "GGMLKernels.dot: negative count \(count)")
        switch type.rawValue {
        case 0: return dotF32(row, x, count: count)
        case 1:
            #if arch(x86_64)
            return dotF16AVX2(row, x, count: count)
            #else
            return portableDotF16(row, x, count: count)
            #endif
        case 30:
            #if arch(x86_64)
            return dotBF16AVX2(row, x, count: count)
            #else
            return portableDotBF16(row, x, count: count)
            #endif
        default:
            preconditionFailure("GGMLKernels.dot: \(type) rows are not fp32-dotted (only F32, F16 and BF16 are; quantized types take a QuantizedActivation)")
        }
    }

    /// Σ a[i]·x[i] over fp32 (a may be unaligned): two SIMD16 FMA accumulators.
    @inline(__always)
    static func dotF32(_ a: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        let b = UnsafeRawPointer(x)
        var acc0 = SIMD16<Float>()
        var acc1 = SIMD16<Float>()
        var j = 0
        while j &+ 32 <= n {
            acc0.addProduct(a.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self),
                            b.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self))
            acc1.addProduct(a.loadUnaligned(fromByteOffset: (j &+ 16) &* 4, as: SIMD16<Float>.self),
                            b.loadUnaligned(fromByteOffset: (j &+ 16) &* 4, as: SIMD16<Float>.self))
            j &+= 32
        }
        while j &+ 16 <= n {
            acc0.addProduct(a.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self),
                            b.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self))
            j &+= 16
        }
        var sum = horizontalSum(acc0 + acc1)
        while j < n {
            sum += a.loadUnaligned(fromByteOffset: j &* 4, as: Float.self) * x[j]
            j &+= 1
        }
        return sum
    }

    /// Σ of the lanes as a tree of vector adds (`SIMD.sum()` adds lane by lane in order).
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float { horizontalSum(v.lowHalf + v.highHalf) }

    @inline(__always)
    static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let four = v.lowHalf + v.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}
