extension InterleavedMatrix {
    /// The element of a block of 32 that quant slot `slot` holds (the activation's order: even
    /// elements in slots 0..<16, odd ones in 16..<32).
    @inline(__always)
    static func element(ofSlot slot: Int) -> Int {
        slot < 16 ? 2 * slot : 2 * (slot - 16) + 1
    }

    /// Writes the interleaved layout (see `InterleavedKernels`) of `rows` ggml rows of `blocks`
    /// blocks at `source` into `target` (zeroed: the bit masks are ORed in).
    static func repack(_ type: GGMLType, rows: Int, blocks: Int, source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, blockBytes: Int) {
        let sourceBlockBytes = type.layout!.bytesPerBlock
        let sourceRowBytes = blocks * sourceBlockBytes
        // Scratch: a block's 32 weights in element order, then in slot order.
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer { scratch.deallocate() }
        let weights = scratch, slots = scratch + 32
        for group in 0..<(rows / 8) {
            for b in 0..<blocks {
                let out = target + (group * blocks + b) * blockBytes
                for j in 0..<8 {
                    let block = source + (group * 8 + j) * sourceRowBytes + b * sourceBlockBytes
                    switch type {
                    case .q4_K: repackQ4_K(block, row: j, into: out, slots: slots)
                    case .q6_K: repackQ6_K(block, row: j, into: out, slots: slots)
                    default: repackBlockOf32(type, block, row: j, into: out, weights: weights, slots: slots)
                    }
                }
            }
        }
    }

    /// Row j's share of a group's block of Q4_0, Q4_1, Q5_0 or Q8_0 (`weights` and `slots`: 32
    /// bytes of scratch each).
    @inline(__always)
    static func repackBlockOf32(
        _ type: GGMLType, _ block: UnsafeRawPointer, row j: Int, into out: UnsafeMutableRawPointer, weights: UnsafeMutablePointer<UInt8>,
        slots: UnsafeMutablePointer<UInt8>
    ) {
        // fp16 d (and m) as they are: the kernels convert eight at a time.
        out.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: 2 * j, as: UInt16.self)
        switch type {
        case .q4_1:
            out.storeBytes(of: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 16 + 2 * j, as: UInt16.self)
            nibbles(block + 4, into: weights)
        case .q4_0:
            nibbles(block + 2, into: weights)
        case .q5_0:
            nibbles(block + 6, into: weights)
            let fifth = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            for e in 0..<32 where fifth >> UInt32(e) & 1 == 1 { weights[e] |= 16 }
        default:
            // Q8_0, stored + 128: quad t, byte 4j + i holds slot 4t + i.
            for slot in 0..<32 {
                let w = block.load(fromByteOffset: 2 + element(ofSlot: slot), as: UInt8.self) ^ 0x80
                out.storeBytes(of: w, toByteOffset: 16 + 32 * (slot / 4) + 4 * j + slot % 4, as: UInt8.self)
            }
            return
        }
        for slot in 0..<32 { slots[slot] = weights[element(ofSlot: slot)] }
        if type == .q5_0 { orMaskBits(16, of: slots, row: j, at: 16, stride: 4, in: out) }
        storeChunks(slots, row: j, at: type == .q4_1 ? 32 : type == .q5_0 ? 48 : 16, in: out)
    }

    /// Q4_K: row j's d and dmin, its decoded 6-bit scales and mins as bytes (sub-block k's eight
    /// rows together), then each sub-block's nibbles in the chunk layout.
    @inline(__always)
    static func repackQ4_K(_ block: UnsafeRawPointer, row j: Int, into out: UnsafeMutableRawPointer, slots: UnsafeMutablePointer<UInt8>) {
        out.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: 2 * j, as: UInt16.self)
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 16 + 2 * j, as: UInt16.self)
        for k in 0..<8 {
            let (scale, minimum) = GGMLKernels.scaleMinK4(block + 4, k)
            out.storeBytes(of: scale, toByteOffset: 32 + 8 * k + j, as: UInt8.self)
            out.storeBytes(of: minimum, toByteOffset: 96 + 8 * k + j, as: UInt8.self)
            // Sub-block k: the low (k even) or high (k odd) nibbles of qs[32(k/2) ..< 32(k/2) + 32].
            for slot in 0..<32 {
                let byte = block.load(fromByteOffset: 16 + 32 * (k / 2) + element(ofSlot: slot), as: UInt8.self)
                slots[slot] = k % 2 == 0 ? byte & 0x0F : byte >> 4
            }
            storeChunks(slots, row: j, at: 160 + 128 * k, in: out)
        }
    }

    /// Element e (0..<256) of a Q6_K super-block: its 6-bit value q (the weight is
    /// d · scales[e / 16] · (q − 32)), from ggml's layout (`GGMLKernels.dequantizeQ6_K`).
    @inline(__always)
    static func q6(_ block: UnsafeRawPointer, _ e: Int) -> UInt8 {
        let part = e / 128, m = e % 128 / 32, l = e % 32
        let low = block.load(fromByteOffset: part * 64 + l + (m % 2) * 32, as: UInt8.self)
        let high = block.load(fromByteOffset: 128 + part * 32 + l, as: UInt8.self)
        return (m < 2 ? low & 0x0F : low >> 4) | (high >> UInt8(2 * m) & 3) << 4
    }

    /// Q6_K: row j's d, its int8 scales (sub-block of 16 h's eight rows together), per sub-block
    /// of 32 the low nibbles in the chunk layout, then per sub-block of 32 and quad t the masks of
    /// the fifth and sixth bits.
    @inline(__always)
    static func repackQ6_K(_ block: UnsafeRawPointer, row j: Int, into out: UnsafeMutableRawPointer, slots: UnsafeMutablePointer<UInt8>) {
        out.storeBytes(of: block.loadUnaligned(fromByteOffset: 208, as: UInt16.self), toByteOffset: 2 * j, as: UInt16.self)
        for h in 0..<16 { out.storeBytes(of: block.load(fromByteOffset: 192 + h, as: UInt8.self), toByteOffset: 16 + 8 * h + j, as: UInt8.self) }
        for k in 0..<8 {
            for slot in 0..<32 { slots[slot] = q6(block, 32 * k + element(ofSlot: slot)) }
            storeChunks(slots, row: j, at: 144 + 128 * k, in: out)
            orMaskBits(16, of: slots, row: j, at: 1168 + 64 * k, stride: 8, in: out)
            orMaskBits(32, of: slots, row: j, at: 1168 + 64 * k + 4, stride: 8, in: out)
        }
    }

    // MARK: The shared pieces of the layout

    /// The chunk layout of one block of 32 for row j at `base`: chunk c, byte 4j + i holds slot
    /// 8c + i in its low nibble and slot 8c + 4 + i in its high one (the low 4 bits of
    /// slots[slot]).
    @inline(__always)
    static func storeChunks(_ slots: UnsafePointer<UInt8>, row j: Int, at base: Int, in out: UnsafeMutableRawPointer) {
        for c in 0..<4 {
            for i in 0..<4 {
                let low = slots[8 * c + i] & 0x0F, high = slots[8 * c + 4 + i] & 0x0F
                out.storeBytes(of: low | high << 4, toByteOffset: base + 32 * c + 4 * j + i, as: UInt8.self)
            }
        }
    }

    /// The low 4 bits of slot `slot` of row j in the chunk layout at `base`.
    @inline(__always)
    static func chunkNibble(_ block: UnsafeRawPointer, at base: Int, slot: Int, row j: Int) -> Int {
        let byte = block.load(fromByteOffset: base + 32 * (slot / 8) + 4 * j + slot % 4, as: UInt8.self)
        return Int(slot % 8 < 4 ? byte & 0x0F : byte >> 4)
    }

    /// ORs into the 32-bit masks at base + stride · t (t in 0..<8) bit 4j + i where slot 4t + i
    /// of row j has `bit` set in slots[4t + i].
    @inline(__always)
    static func orMaskBits(_ bit: UInt8, of slots: UnsafePointer<UInt8>, row j: Int, at base: Int, stride: Int, in out: UnsafeMutableRawPointer) {
        for t in 0..<8 {
            var mask = out.loadUnaligned(fromByteOffset: base + stride * t, as: UInt32.self)
            for i in 0..<4 where slots[4 * t + i] & bit != 0 { mask |= 1 << UInt32(4 * j + i) }
            out.storeBytes(of: mask, toByteOffset: base + stride * t, as: UInt32.self)
        }
    }

    /// Bit 4j + i (slot 4t + i of row j) of the masks at base + stride · t, as 0 or 1.
    @inline(__always)
    static func maskBit(_ block: UnsafeRawPointer, at base: Int, stride: Int, slot: Int, row j: Int) -> Int {
        Int(block.loadUnaligned(fromByteOffset: base + stride * (slot / 4), as: UInt32.self) >> UInt32(4 * j + slot % 4) & 1)
    }

    /// A Q4_0/Q4_1/Q5_0 block's 16 bytes of nibbles as its 32 weights 0...15 in element order
    /// (byte k: element k in the low nibble, element k + 16 in the high one).
    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer, into weights: UnsafeMutablePointer<UInt8>) {
        for k in 0..<16 {
            let byte = p.load(fromByteOffset: k, as: UInt8.self)
            weights[k] = byte & 0x0F
            weights[k + 16] = byte >> 4
        }
    }
}

extension InterleavedMatrix {
    /// Row `row` dequantized into out[0..<count], read from the repacked copy (so an embedding
    /// lookup touches none of the pages the ggml rows were dropped from); the values equal
    /// `GGMLKernels.dequantize` of the original row.
    public func dequantizeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rows, "InterleavedMatrix.dequantizeRow: row \(row) outside 0..<\(rows)")
        let j = row % 8
        let group = storage + (row / 8) * groupBytes
        for b in 0..<blocks {
            let block = UnsafeRawPointer(group + b * blockBytes)
            let d = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
            switch type {
            case .q6_K:
                for k in 0..<8 {
                    let masks = 1168 + 64 * k
                    for slot in 0..<32 {
                        let q = Self.chunkNibble(block, at: 144 + 128 * k, slot: slot, row: j)
                            | Self.maskBit(block, at: masks, stride: 8, slot: slot, row: j) << 4
                            | Self.maskBit(block, at: masks + 4, stride: 8, slot: slot, row: j) << 5
                        let e = 32 * k + Self.element(ofSlot: slot)
                        let scale = Float(block.load(fromByteOffset: 16 + 8 * (e / 16) + j, as: Int8.self))
                        // d · scale · (q − 32), as GGMLKernels.dequantize computes it.
                        out[b * 256 + e] = d * scale * Float(q - 32)
                    }
                }
            case .q4_K:
                let dmin = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 16 + 2 * j, as: UInt16.self)))
                for k in 0..<8 {
                    // (d · scale) · q − dmin · min, as GGMLKernels.dequantize computes it.
                    let scale = d * Float(block.load(fromByteOffset: 32 + 8 * k + j, as: UInt8.self))
                    let minimum = dmin * Float(block.load(fromByteOffset: 96 + 8 * k + j, as: UInt8.self))
                    for slot in 0..<32 {
                        let q = Self.chunkNibble(block, at: 160 + 128 * k, slot: slot, row: j)
                        out[b * 256 + 32 * k + Self.element(ofSlot: slot)] = scale * Float(q) - minimum
                    }
                }
            case .q8_0:
                for slot in 0..<32 {
                    let stored = block.load(fromByteOffset: 16 + 32 * (slot / 4) + 4 * j + slot % 4, as: UInt8.self)
                    out[b * 32 + Self.element(ofSlot: slot)] = d * Float(Int(stored) - 128)
                }
            default:
                // Q4_1: d·q + m; Q4_0: d·(q − 8); Q5_0: d·(q − 16), as GGMLKernels.dequantize
                // computes them.
                let m = type == .q4_1 ? Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 16 + 2 * j, as: UInt16.self))) : 0
                let offset = type == .q4_1 ? 0 : type == .q5_0 ? 16 : 8
                let base = type == .q4_1 ? 32 : type == .q5_0 ? 48 : 16
                for slot in 0..<32 {
                    var q = Self.chunkNibble(block, at: base, slot: slot, row: j)
                    if type == .q5_0 { q |= Self.maskBit(block, at: 16, stride: 4, slot: slot, row: j) << 4 }
                    out[b * 32 + Self.element(ofSlot: slot)] = d * Float(q - offset) + m
                }
            }
        }
    }
}
