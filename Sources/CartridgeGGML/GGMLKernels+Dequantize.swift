extension GGMLKernels {
    /// Dequantizes `count` elements of a row of `type` into fp32, bit for bit as ggml's
    /// reference `dequantize_row_*` (and gguf-py's numpy `gguf.quants.dequantize`) compute them:
    /// the same fp32 operations in the same order, no fused multiply-add.
    ///
    /// - F32 copies, F16 converts exactly, BF16 is the high half of an fp32.
    /// - Q8_0: q·d; Q4_0/Q5_0: d·(q − 8 / − 16); Q4_1/Q5_1: d·q + m.
    /// - Q4_K/Q5_K: (d·scale)·q − dmin·min per sub-block of 32 (6-bit packed scales and mins).
    /// - Q6_K: (d·scale)·(q − 32) per sub-block of 16 (int8 scales).
    ///
    /// `count` must be a whole number of the type's blocks (32, or 256 for the K types) and the
    /// row must hold `type.rowByteCount(elements: count)` bytes. An unsupported type stops with a
    /// precondition failure: callers check `GGMLType.isSupported` first.
    public static func dequantize(_ type: GGMLType, row: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        guard type.isSupported, let layout = type.layout else {
            preconditionFailure("GGMLKernels.dequantize: \(type) is not supported (check GGMLType.isSupported first)")
        }
        precondition(count >= 0 && count % layout.blockSize == 0, "GGMLKernels.dequantize: \(count) elements is not a whole number of \(type) blocks of \(layout.blockSize)")
        let blocks = count / layout.blockSize
        switch type.rawValue {
        case 0:
            for i in 0..<count { y[i] = row.loadUnaligned(fromByteOffset: i &* 4, as: Float.self) }
        case 1:
            for i in 0..<count { y[i] = halfToFloat(row.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) }
        case 30:
            for i in 0..<count { y[i] = bfloat16ToFloat(row.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) }
        case 8: for b in 0..<blocks { dequantizeQ8_0(row + b &* 34, y + b &* 32) }
        case 2: for b in 0..<blocks { dequantizeQ4_0(row + b &* 18, y + b &* 32) }
        case 3: for b in 0..<blocks { dequantizeQ4_1(row + b &* 20, y + b &* 32) }
        case 6: for b in 0..<blocks { dequantizeQ5_0(row + b &* 22, y + b &* 32) }
        case 7: for b in 0..<blocks { dequantizeQ5_1(row + b &* 24, y + b &* 32) }
        case 12: for b in 0..<blocks { dequantizeQ4_K(row + b &* 144, y + b &* 256) }
        case 13: for b in 0..<blocks { dequantizeQ5_K(row + b &* 176, y + b &* 256) }
        case 14: for b in 0..<blocks { dequantizeQ6_K(row + b &* 210, y + b &* 256) }
        default:
            preconditionFailure("GGMLKernels.dequantize: no dequantizer for \(type)")
        }
    }

    // MARK: Scalar conversions

    /// IEEE binary16 → binary32, exact for every bit pattern (NaN payloads kept).
    @inline(__always)
    static func halfToFloat(_ bits: UInt16) -> Float {
        #if (os(macOS) || os(iOS) || os(tvOS) || os(watchOS)) && arch(x86_64)
        return halfToFloatBits(bits)
        #else
        return Float(Float16(bitPattern: bits))
        #endif
    }

    /// binary16 → binary32 by bit manipulation (the reference the hardware conversion is tested
    /// against, and the path where Swift has no Float16).
    static func halfToFloatBits(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2⁻²⁴, exact in fp32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        return Float(bitPattern: sign | (exponent &+ 112) << 23 | mantissa << 13)
    }

    /// bfloat16 → binary32: the 16 bits are the high half of the fp32.
    @inline(__always)
    static func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The 6-bit scale and min of sub-block j (0..<8) of a Q4_K/Q5_K super-block's 12 packed
    /// bytes (ggml's `get_scale_min_k4`).
    @inline(__always)
    static func scaleMinK4(_ scales: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        let q = scales.assumingMemoryBound(to: UInt8.self)
        if j < 4 { return (q[j] & 63, q[j &+ 4] & 63) }
        return ((q[j &+ 4] & 0xF) | ((q[j &- 4] >> 6) << 4), (q[j &+ 4] >> 4) | ((q[j] >> 6) << 4))
    }

    // MARK: Blocks (y = 32 or 256 outputs)

    static func dequantizeQ8_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        for i in 0..<32 { y[i] = Float(block.load(fromByteOffset: 2 &+ i, as: Int8.self)) * d }
    }

    static func dequantizeQ4_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 2 &+ j, as: UInt8.self)
            y[j] = d * Float(Int(byte & 0xF) &- 8)
            y[j &+ 16] = d * Float(Int(byte >> 4) &- 8)
        }
    }

    static func dequantizeQ4_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        let m = half(block, 2)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 4 &+ j, as: UInt8.self)
            y[j] = d * Float(byte & 0xF) + m
            y[j &+ 16] = d * Float(byte >> 4) + m
        }
    }

    static func dequantizeQ5_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 6 &+ j, as: UInt8.self)
            let low = Int(byte & 0xF) | Int((qh >> UInt32(j)) & 1) << 4
            let high = Int(byte >> 4) | Int((qh >> UInt32(j &+ 16)) & 1) << 4
            y[j] = d * Float(low &- 16)
            y[j &+ 16] = d * Float(high &- 16)
        }
    }

    static func dequantizeQ5_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        let m = half(block, 2)
        let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 8 &+ j, as: UInt8.self)
            let low = Int(byte & 0xF) | Int((qh >> UInt32(j)) & 1) << 4
            let high = Int(byte >> 4) | Int((qh >> UInt32(j &+ 16)) & 1) << 4
            y[j] = d * Float(low) + m
            y[j &+ 16] = d * Float(high) + m
        }
    }

    /// Q4_K super-block: d, dmin (fp16), 12 bytes of packed scales/mins, 128 bytes of nibbles;
    /// each 32 bytes of nibbles hold two sub-blocks (low nibbles, then high nibbles).
    static func dequantizeQ4_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        let dmin = half(block, 2)
        let scales = block + 4
        let qs = block + 16
        for group in 0..<4 {
            let (sc0, m0) = scaleMinK4(scales, 2 &* group)
            let (sc1, m1) = scaleMinK4(scales, 2 &* group &+ 1)
            let d0 = d * Float(sc0), min0 = dmin * Float(m0)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let out = y + group &* 64
            for l in 0..<32 {
                let byte = qs.load(fromByteOffset: group &* 32 &+ l, as: UInt8.self)
                out[l] = d0 * Float(byte & 0xF) - min0
                out[l &+ 32] = d1 * Float(byte >> 4) - min1
            }
        }
    }

    /// Q5_K super-block: as Q4_K, plus 32 bytes of high bits (bit 2g / 2g+1 of byte l is the
    /// fifth bit of element l of sub-block 2g / 2g+1) before the nibbles.
    static func dequantizeQ5_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        let dmin = half(block, 2)
        let scales = block + 4
        let qh = block + 16
        let qs = block + 48
        for group in 0..<4 {
            let (sc0, m0) = scaleMinK4(scales, 2 &* group)
            let (sc1, m1) = scaleMinK4(scales, 2 &* group &+ 1)
            let d0 = d * Float(sc0), min0 = dmin * Float(m0)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let out = y + group &* 64
            for l in 0..<32 {
                let byte = qs.load(fromByteOffset: group &* 32 &+ l, as: UInt8.self)
                let high = qh.load(fromByteOffset: l, as: UInt8.self) >> UInt8(2 &* group)
                out[l] = d0 * Float((byte & 0xF) | (high & 1) << 4) - min0
                out[l &+ 32] = d1 * Float((byte >> 4) | ((high >> 1) & 1) << 4) - min1
            }
        }
    }

    /// Q6_K super-block: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales
    /// (one per 16 elements), d (fp16) last; two halves of 128 elements.
    static func dequantizeQ6_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 208)
        for part in 0..<2 {
            let ql = block + part &* 64
            let qh = block + (128 &+ part &* 32)
            let sc = block + (192 &+ part &* 8)
            let out = y + part &* 128
            for l in 0..<32 {
                let sub = l / 16
                let low0 = ql.load(fromByteOffset: l, as: UInt8.self)
                let low1 = ql.load(fromByteOffset: l &+ 32, as: UInt8.self)
                let high = qh.load(fromByteOffset: l, as: UInt8.self)
                let q1 = Int((low0 & 0xF) | ((high >> 0) & 3) << 4) &- 32
                let q2 = Int((low1 & 0xF) | ((high >> 2) & 3) << 4) &- 32
                let q3 = Int((low0 >> 4) | ((high >> 4) & 3) << 4) &- 32
                let q4 = Int((low1 >> 4) | ((high >> 6) & 3) << 4) &- 32
                out[l] = d * Float(sc.load(fromByteOffset: sub, as: Int8.self)) * Float(q1)
                out[l &+ 32] = d * Float(sc.load(fromByteOffset: sub &+ 2, as: Int8.self)) * Float(q2)
                out[l &+ 64] = d * Float(sc.load(fromByteOffset: sub &+ 4, as: Int8.self)) * Float(q3)
                out[l &+ 96] = d * Float(sc.load(fromByteOffset: sub &+ 6, as: Int8.self)) * Float(q4)
            }
        }
    }
}
