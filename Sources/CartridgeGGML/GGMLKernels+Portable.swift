/// The portable kernels (Swift SIMD, no intrinsics): what non-x86 builds (arm64 boards) run, and
/// compiled on x86-64 too so the tests check them against the same references as the AVX2 ones.
///
/// Weights are unpacked to one byte each (every type's unpacked values fit in int8), as two
/// `SIMD16<UInt8>` halves of 32 elements, then `blockDot` multiplies them with 32 activation
/// bytes: the int8 lanes are widened with shifts on 16-bit lanes (low byte `(v << 8) >> 8`, high
/// byte `v >> 8`), multiplied in 16 bits (a pair of products is at most 2·128·127, which fits),
/// and the pair sums widened the same way into 32 bits. Each block's int32 sum is scaled in fp32.
///
/// Codegen traps (checked with swiftc -O): bitwise operators and shifts on `SIMD32<UInt8>` (and
/// any scalar-operand operator on it) compile to a lane-by-lane loop through memory, about 100×
/// slower; on `SIMD16<UInt8>` and 16/32-bit lanes they are single vector instructions. SIMD
/// integer conversions (`SIMD16<Int16>(truncatingIfNeeded:)`) compile to generic runtime calls.
/// So bytes stay in `SIMD16<UInt8>` halves here.
extension GGMLKernels {
    // MARK: Helpers

    /// 32 unpacked weight bytes: elements 0..<16 and 16..<32.
    typealias Bytes32 = (low: SIMD16<UInt8>, high: SIMD16<UInt8>)

    /// Σ over 16 signed weight bytes × 16 activation bytes, as four int32 partial sums.
    @inline(__always)
    static func halfDot(_ w: SIMD16<UInt8>, _ x: UnsafeRawPointer) -> SIMD4<Int32> {
        let wv = unsafeBitCast(w, to: SIMD8<Int16>.self)
        let xv = x.loadUnaligned(as: SIMD8<Int16>.self)
        let pairs = ((wv &<< 8) &>> 8) &* ((xv &<< 8) &>> 8) &+ (wv &>> 8) &* (xv &>> 8)
        let wide = unsafeBitCast(pairs, to: SIMD4<Int32>.self)
        return ((wide &<< 16) &>> 16) &+ (wide &>> 16)
    }

    @inline(__always)
    static func lanesSum(_ v: SIMD4<Int32>) -> Int32 {
        (v[0] &+ v[1]) &+ (v[2] &+ v[3])
    }

    /// Σ over 32 signed weight bytes × the 32 activation bytes at x.
    @inline(__always)
    static func blockDot(_ w: Bytes32, _ x: UnsafeRawPointer) -> Int32 {
        lanesSum(halfDot(w.low, x) &+ halfDot(w.high, x + 16))
    }

    /// 32 unsigned bytes from 16 bytes of nibbles (low nibbles first, then high ones).
    @inline(__always)
    static func portableNibbles(_ p: UnsafeRawPointer) -> Bytes32 {
        let packed = p.loadUnaligned(as: SIMD16<UInt8>.self)
        return (packed & 0x0F, packed &>> 4)
    }

    /// 32 bytes, byte i = bit i of the little-endian word at p moved to bit 4 (0 or 16).
    @inline(__always)
    static func portableBit4(_ p: UnsafeRawPointer) -> Bytes32 {
        let selectors = SIMD16<UInt8>(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128)
        let bytes = p.loadUnaligned(as: SIMD4<UInt8>.self)
        func spread(_ first: UInt8, _ second: UInt8) -> SIMD16<UInt8> {
            let picked = SIMD16(lowHalf: SIMD8(repeating: first), highHalf: SIMD8(repeating: second)) & selectors
            return unsafeBitCast(picked .== selectors, to: SIMD16<UInt8>.self) & 16  // mask lanes are all ones
        }
        return (spread(bytes[0], bytes[1]), spread(bytes[2], bytes[3]))
    }

    /// The eight 6-bit scales and eight 6-bit mins of a Q4_K/Q5_K super-block's 12 packed bytes
    /// (llama.cpp's kmask unpacking, equal to `scaleMinK4` for j in 0..<8).
    @inline(__always)
    static func unpackScalesMinsK4(_ p: UnsafeRawPointer) -> (scales: SIMD8<UInt8>, mins: SIMD8<UInt8>) {
        let s0 = p.loadUnaligned(as: UInt32.self)
        let s1 = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let s2 = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let low6: UInt32 = 0x3F3F_3F3F, low4: UInt32 = 0x0F0F_0F0F, low2: UInt32 = 0x0303_0303
        let scalesLow = s0 & low6
        let scalesHigh = (s2 & low4) | (((s0 >> 6) & low2) << 4)
        let minsLow = s1 & low6
        let minsHigh = ((s2 >> 4) & low4) | (((s1 >> 6) & low2) << 4)
        return (
            unsafeBitCast(SIMD2<UInt32>(scalesLow, scalesHigh), to: SIMD8<UInt8>.self),
            unsafeBitCast(SIMD2<UInt32>(minsLow, minsHigh), to: SIMD8<UInt8>.self)
        )
    }

    // MARK: Activation quantization

    static func portableQuantize(_ x: UnsafePointer<Float>, blocks: Int, into a: QuantizedActivation) {
        for b in 0..<blocks {
            let p = x + b &* 32
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(p[i])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            var total: Int32 = 0
            for i in 0..<32 {
                let q = Int8((p[i] * id).rounded(.toNearestOrEven))
                a.quants[b &* 32 &+ i] = q
                total &+= Int32(q)
            }
            a.scales[b] = d
            a.sums[b] = d * Float(total)
        }
    }

    // MARK: Legacy blocks of 32

    static func portableDotQ8_0(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 34
            sum += Float(blockDot(load32(block, 2), xq + b &* 32)) * (half(block, 0) * a.scales[b])
        }
        return sum
    }

    static func portableDotQ4_0(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 18
            let q = portableNibbles(block + 2)
            sum += Float(blockDot((q.low &- 8, q.high &- 8), xq + b &* 32)) * (half(block, 0) * a.scales[b])
        }
        return sum
    }

    static func portableDotQ4_1(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 20
            sum += Float(blockDot(portableNibbles(block + 4), xq + b &* 32)) * (half(block, 0) * a.scales[b])
            offsets += half(block, 2) * a.sums[b]
        }
        return sum + offsets
    }

    static func portableDotQ5_0(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 22
            let q = portableNibbles(block + 6), h = portableBit4(block + 2)
            let w = ((q.low | h.low) &- 16, (q.high | h.high) &- 16)
            sum += Float(blockDot(w, xq + b &* 32)) * (half(block, 0) * a.scales[b])
        }
        return sum
    }

    static func portableDotQ5_1(_ row: UnsafeRawPointer, _ a: QuantizedActivation, blocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        let xq = UnsafeRawPointer(a.quants)
        for b in 0..<blocks {
            let block = row + b &* 24
            let q = portableNibbles(block + 8), h = portableBit4(block + 4)
            sum += Float(blockDot((q.low | h.low, q.high | h.high), xq + b &* 32)) * (half(block, 0) * a.scales[b])
            offsets += half(block, 2) * a.sums[b]
        }
        return sum + offsets
    }

    // MARK: K-quants

    @inline(__always)
    static func load32(_ p: UnsafeRawPointer, _ offset: Int) -> Bytes32 {
        (p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self), p.loadUnaligned(fromByteOffset: offset &+ 16, as: SIMD16<UInt8>.self))
    }

    static func portableDotQ4_K(_ row: UnsafeRawPointer, _ a: QuantizedActivation, superBlocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        for s in 0..<superBlocks {
            let block = row + s &* 144
            let d = half(block, 0)
            let dmin = half(block, 2)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let dx = a.scales + s &* 8
            let sx = a.sums + s &* 8
            var minSum: Float = 0
            for g in 0..<4 {
                let q = load32(block, 16 &+ g &* 32)
                let j = 2 &* g
                sum += Float(blockDot((q.low & 0x0F, q.high & 0x0F), xq + g &* 64)) * (d * Float(scales[j]) * dx[j])
                sum += Float(blockDot((q.low &>> 4, q.high &>> 4), xq + (g &* 64 &+ 32))) * (d * Float(scales[j &+ 1]) * dx[j &+ 1])
                minSum += Float(mins[j]) * sx[j] + Float(mins[j &+ 1]) * sx[j &+ 1]
            }
            offsets += dmin * minSum
        }
        return sum - offsets
    }

    static func portableDotQ5_K(_ row: UnsafeRawPointer, _ a: QuantizedActivation, superBlocks: Int) -> Float {
        var sum: Float = 0
        var offsets: Float = 0
        for s in 0..<superBlocks {
            let block = row + s &* 176
            let d = half(block, 0)
            let dmin = half(block, 2)
            let (scales, mins) = unpackScalesMinsK4(block + 4)
            var highBits = load32(block, 16)
            let xq = UnsafeRawPointer(a.quants + s &* 256)
            let dx = a.scales + s &* 8
            let sx = a.sums + s &* 8
            var minSum: Float = 0
            for g in 0..<4 {
                let q = load32(block, 48 &+ g &* 32)
                // Bit 2g (low sub-block) and 2g+1 (high sub-block) of each high-bit byte, moved to bit 4.
                let low = ((q.low & 0x0F) | ((highBits.low & 1) &<< 4), (q.high & 0x0F) | ((highBits.high & 1) &<< 4))
                let high = ((q.low &>> 4) | ((highBits.low & 2) &<< 3), (q.high &>> 4) | ((highBits.high & 2) &<< 3))
                highBits = (highBits.low &>> 2, highBits.high &>> 2)
                let j = 2 &* g
                sum += Float(blockDot(low, xq + g &* 64)) * (d * Float(scales[j]) * dx[j])
                sum += Float(blockDot(high, xq + (g &* 64 &+ 32))) * (d * Float(scales[j &+ 1]) * dx[j &+ 1])
                minSum += Float(mins[j]) * sx[j] + Float(mins[j &+ 1]) * sx[j &+ 1]
            }
            offsets += dmin * minSum
        }
        return sum - offsets
    }

    /// Q6_K in 16-byte parts: each part of each quarter of a half is one 16-element sub-block
    /// with its own int8 scale, so the integer sums are scaled per part.
    static func portableDotQ6_K(_ row: UnsafeRawPointer, _ a: QuantizedActivation, superBlocks: Int) -> Float {
        var sum: Float = 0
        for s in 0..<superBlocks {
            let block = row + s &* 210
            let d = half(block, 208)
            let dx = a.scales + s &* 8
            for h in 0..<2 {
                let sc = block + (192 &+ h &* 8)
                let xq = UnsafeRawPointer(a.quants + (s &* 256 &+ h &* 128))
                var quarters = SIMD4<Int32>()
                for part in 0..<2 {
                    let ql0 = block.loadUnaligned(fromByteOffset: h &* 64 &+ part &* 16, as: SIMD16<UInt8>.self)
                    let ql1 = block.loadUnaligned(fromByteOffset: h &* 64 &+ 32 &+ part &* 16, as: SIMD16<UInt8>.self)
                    let qh = block.loadUnaligned(fromByteOffset: 128 &+ h &* 32 &+ part &* 16, as: SIMD16<UInt8>.self)
                    // Elements of quarters 0...3: nibble | 2 high bits << 4, minus 32.
                    let q0 = ((ql0 & 0x0F) | ((qh & 0x03) &<< 4)) &- 32
                    let q1 = ((ql1 & 0x0F) | ((qh & 0x0C) &<< 2)) &- 32
                    let q2 = ((ql0 &>> 4) | (qh & 0x30)) &- 32
                    let q3 = ((ql1 &>> 4) | ((qh &>> 2) & 0x30)) &- 32
                    let x = xq + part &* 16
                    // Quarter k, part p is sub-block 2k + p of the half.
                    let partScales = SIMD4<Int32>(
                        Int32(sc.load(fromByteOffset: part, as: Int8.self)), Int32(sc.load(fromByteOffset: 2 &+ part, as: Int8.self)),
                        Int32(sc.load(fromByteOffset: 4 &+ part, as: Int8.self)), Int32(sc.load(fromByteOffset: 6 &+ part, as: Int8.self))
                    )
                    let partSums = SIMD4<Int32>(
                        lanesSum(halfDot(q0, x)), lanesSum(halfDot(q1, x + 32)), lanesSum(halfDot(q2, x + 64)), lanesSum(halfDot(q3, x + 96))
                    )
                    quarters &+= partSums &* partScales
                }
                let j = h &* 4
                sum += Float(quarters[0]) * (d * dx[j]) + Float(quarters[1]) * (d * dx[j &+ 1])
                sum += Float(quarters[2]) * (d * dx[j &+ 2]) + Float(quarters[3]) * (d * dx[j &+ 3])
            }
        }
        return sum
    }

    // MARK: Float rows

    static func portableDotF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j &+ 8 <= n {
            var w = SIMD8<Float>()
            for k in 0..<8 { w[k] = half(row, (j &+ k) &* 2) }
            acc.addProduct(w, UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self))
            j &+= 8
        }
        var sum = horizontalSum(acc)
        while j < n {
            sum += half(row, j &* 2) * x[j]
            j &+= 1
        }
        return sum
    }

    static func portableDotBF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j &+ 8 <= n {
            let bits = row.loadUnaligned(fromByteOffset: j &* 2, as: SIMD8<UInt16>.self)
            var w = SIMD8<Float>()
            for k in 0..<8 { w[k] = bfloat16ToFloat(bits[k]) }
            acc.addProduct(w, UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self))
            j &+= 8
        }
        var sum = horizontalSum(acc)
        while j < n {
            sum += bfloat16ToFloat(row.loadUnaligned(fromByteOffset: j &* 2, as: UInt16.self)) * x[j]
            j &+= 1
        }
        return sum
    }
}
