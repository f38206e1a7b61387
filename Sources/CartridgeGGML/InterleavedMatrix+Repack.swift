extension InterleavedMatrix {
    /// The element of a block of 32 that quant slot `slot` holds (the activation's order: even
    /// elements in slots 0..<16, odd ones in 16..<32).
    @inline(__always)
    static func element(ofSlot slot: Int) -> Int {
        slot < 16 ? 2 * slot : 2 * (slot - 16) + 1
    }

    /// Writes the interleaved layout (see `InterleavedKernels`) of `rows` ggml rows of `blocks`
    /// blocks at `source` into `target`.
    static func repack(_ type: GGMLType, rows: Int, blocks: Int, source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, blockBytes: Int) {
        let sourceBlockBytes = type.layout!.bytesPerBlock
        let sourceRowBytes = blocks * sourceBlockBytes
        if type == .q4_K {
            repackQ4_K(rows: rows, blocks: blocks, source: source, into: target, blockBytes: blockBytes)
            return
        }
        if type == .q6_K {
            repackQ6_K(rows: rows, blocks: blocks, source: source, into: target, blockBytes: blockBytes)
            return
        }
        var weights = [Int8](repeating: 0, count: 32)
        for group in 0..<(rows / 8) {
            for b in 0..<blocks {
                let out = target + (group * blocks + b) * blockBytes
                for j in 0..<8 {
                    let block = source + (group * 8 + j) * sourceRowBytes + b * sourceBlockBytes
                    // fp16 d (and m) as they are: the kernels convert eight at a time.
                    out.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: 2 * j, as: UInt16.self)
                    switch type {
                    case .q4_1:
                        out.storeBytes(of: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 16 + 2 * j, as: UInt16.self)
                        nibbles(block + 4, into: &weights)
                    case .q4_0:
                        nibbles(block + 2, into: &weights)
                    case .q5_0:
                        nibbles(block + 6, into: &weights)
                        let fifth = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
                        for e in 0..<32 where fifth >> UInt32(e) & 1 == 1 { weights[e] |= 16 }
                    default:
                        for e in 0..<32 { weights[e] = block.loadUnaligned(fromByteOffset: 2 + e, as: Int8.self) }
                    }
                    if type == .q8_0 {
                        // Quad t, byte 4j + i: slot 4t + i, stored + 128.
                        for t in 0..<8 {
                            for i in 0..<4 {
                                let w = UInt8(bitPattern: weights[element(ofSlot: 4 * t + i)]) ^ 0x80  // w + 128
                                out.storeBytes(of: w, toByteOffset: 16 + 32 * t + 4 * j + i, as: UInt8.self)
                            }
                        }
                    } else {
                        if type == .q5_0 {
                            // Mask t, bit 4j + i: the fifth bit of slot 4t + i.
                            for t in 0..<8 {
                                var mask = out.loadUnaligned(fromByteOffset: 16 + 4 * t, as: UInt32.self)
                                for i in 0..<4 where weights[element(ofSlot: 4 * t + i)] & 16 != 0 { mask |= 1 << UInt32(4 * j + i) }
                                out.storeBytes(of: mask, toByteOffset: 16 + 4 * t, as: UInt32.self)
                            }
                        }
                        // Chunk c, byte 4j + i: slot 8c + i in the low nibble, 8c + 4 + i in the high.
                        let base = type == .q4_1 ? 32 : type == .q5_0 ? 48 : 16
                        for c in 0..<4 {
                            for i in 0..<4 {
                                let low = UInt8(weights[element(ofSlot: 8 * c + i)]) & 0x0F
                                let high = UInt8(weights[element(ofSlot: 8 * c + 4 + i)]) & 0x0F
                                out.storeBytes(of: low | high << 4, toByteOffset: base + 32 * c + 4 * j + i, as: UInt8.self)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Q4_K: per group and super-block, d and dmin of the eight rows, their decoded 6-bit scales
    /// and mins as bytes (sub-block k's eight rows together), then each sub-block's nibbles in
    /// the Q4_0 chunk layout (slots 8c + i low, 8c + 4 + i high, bytes 4j + i).
    static func repackQ4_K(rows: Int, blocks: Int, source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, blockBytes: Int) {
        let sourceRowBytes = blocks * 144
        for group in 0..<(rows / 8) {
            for s in 0..<blocks {
                let out = target + (group * blocks + s) * blockBytes
                for j in 0..<8 {
                    let block = source + (group * 8 + j) * sourceRowBytes + s * 144
                    out.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: 2 * j, as: UInt16.self)
                    out.storeBytes(of: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 16 + 2 * j, as: UInt16.self)
                    for k in 0..<8 {
                        let (scale, minimum) = GGMLKernels.scaleMinK4(block + 4, k)
                        out.storeBytes(of: scale, toByteOffset: 32 + 8 * k + j, as: UInt8.self)
                        out.storeBytes(of: minimum, toByteOffset: 96 + 8 * k + j, as: UInt8.self)
                        // Sub-block k: the low (k even) or high (k odd) nibbles of qs[32(k/2) ..< 32(k/2) + 32].
                        @inline(__always) func weight(_ e: Int) -> UInt8 {
                            let byte = block.load(fromByteOffset: 16 + 32 * (k / 2) + e, as: UInt8.self)
                            return k % 2 == 0 ? byte & 0x0F : byte >> 4
                        }
                        for c in 0..<4 {
                            for i in 0..<4 {
                                let low = weight(element(ofSlot: 8 * c + i)), high = weight(element(ofSlot: 8 * c + 4 + i))
                                out.storeBytes(of: low | high << 4, toByteOffset: 160 + 128 * k + 32 * c + 4 * j + i, as: UInt8.self)
                            }
                        }
                    }
                }
            }
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

    /// Q6_K: per group and super-block, d of the eight rows, their int8 scales (sub-block of 16
    /// h's eight rows together), per sub-block of 32 the low nibbles in the Q4_0 chunk layout,
    /// then per sub-block of 32 and quad t the masks of the fifth and sixth bits (bit 4j + i:
    /// row j's slot 4t + i).
    static func repackQ6_K(rows: Int, blocks: Int, source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, blockBytes: Int) {
        let sourceRowBytes = blocks * 210
        for group in 0..<(rows / 8) {
            for s in 0..<blocks {
                let out = target + (group * blocks + s) * blockBytes
                for j in 0..<8 {
                    let block = source + (group * 8 + j) * sourceRowBytes + s * 210
                    out.storeBytes(of: block.loadUnaligned(fromByteOffset: 208, as: UInt16.self), toByteOffset: 2 * j, as: UInt16.self)
                    for h in 0..<16 { out.storeBytes(of: block.load(fromByteOffset: 192 + h, as: UInt8.self), toByteOffset: 16 + 8 * h + j, as: UInt8.self) }
                    for k in 0..<8 {
                        @inline(__always) func weight(_ slot: Int) -> UInt8 { q6(block, 32 * k + element(ofSlot: slot)) }
                        for c in 0..<4 {
                            for i in 0..<4 {
                                let low = weight(8 * c + i) & 0x0F, high = weight(8 * c + 4 + i) & 0x0F
                                out.storeBytes(of: low | high << 4, toByteOffset: 144 + 128 * k + 32 * c + 4 * j + i, as: UInt8.self)
                            }
                        }
                        for t in 0..<8 {
                            let masks = 1168 + 64 * k + 8 * t
                            var fifth = out.loadUnaligned(fromByteOffset: masks, as: UInt32.self)
                            var sixth = out.loadUnaligned(fromByteOffset: masks + 4, as: UInt32.self)
                            for i in 0..<4 {
                                let q = weight(4 * t + i)
                                if q & 16 != 0 { fifth |= 1 << UInt32(4 * j + i) }
                                if q & 32 != 0 { sixth |= 1 << UInt32(4 * j + i) }
                            }
                            out.storeBytes(of: fifth, toByteOffset: masks, as: UInt32.self)
                            out.storeBytes(of: sixth, toByteOffset: masks + 4, as: UInt32.self)
                        }
                    }
                }
            }
        }
    }

    /// A Q4_0/Q4_1 block's 16 bytes of nibbles as its 32 weights 0...15 in element order (byte k:
    /// element k in the low nibble, element k + 16 in the high one).
    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer, into weights: inout [Int8]) {
        for k in 0..<16 {
            let byte = p.load(fromByteOffset: k, as: UInt8.self)
            weights[k] = Int8(byte & 0x0F)
            weights[k + 16] = Int8(byte >> 4)
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
        if type == .q6_K {
            for s in 0..<blocks {
                let block = UnsafeRawPointer(group + s * blockBytes)
                let d = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
                for k in 0..<8 {
                    let masks = 1168 + 64 * k
                    for slot in 0..<32 {
                        let t = slot / 4, i = slot % 4
                        let chunk = block.load(fromByteOffset: 144 + 128 * k + 32 * (slot / 8) + 4 * j + i, as: UInt8.self)
                        let low = slot % 8 < 4 ? chunk & 0x0F : chunk >> 4
                        let fifth = block.loadUnaligned(fromByteOffset: masks + 8 * t, as: UInt32.self) >> UInt32(4 * j + i) & 1
                        let sixth = block.loadUnaligned(fromByteOffset: masks + 8 * t + 4, as: UInt32.self) >> UInt32(4 * j + i) & 1
                        let q = Int(low) | Int(fifth) << 4 | Int(sixth) << 5
                        let e = 32 * k + Self.element(ofSlot: slot)
                        let scale = Float(block.load(fromByteOffset: 16 + 8 * (e / 16) + j, as: Int8.self))
                        // d · scale · (q − 32), as GGMLKernels.dequantize computes it.
                        out[s * 256 + e] = d * scale * Float(q - 32)
                    }
                }
            }
            return
        }
        if type == .q4_K {
            for s in 0..<blocks {
                let block = UnsafeRawPointer(group + s * blockBytes)
                let d = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
                let dmin = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 16 + 2 * j, as: UInt16.self)))
                for k in 0..<8 {
                    // (d · scale) · q − dmin · min, as GGMLKernels.dequantize computes it.
                    let scale = d * Float(block.load(fromByteOffset: 32 + 8 * k + j, as: UInt8.self))
                    let minimum = dmin * Float(block.load(fromByteOffset: 96 + 8 * k + j, as: UInt8.self))
                    let target = out + s * 256 + k * 32
                    for c in 0..<4 {
                        for i in 0..<4 {
                            let byte = block.load(fromByteOffset: 160 + 128 * k + 32 * c + 4 * j + i, as: UInt8.self)
                            target[Self.element(ofSlot: 8 * c + i)] = scale * Float(byte & 0x0F) - minimum
                            target[Self.element(ofSlot: 8 * c + 4 + i)] = scale * Float(byte >> 4) - minimum
                        }
                    }
                }
            }
            return
        }
        for b in 0..<blocks {
            let block = UnsafeRawPointer(group + b * blockBytes)
            let d = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
            let target = out + b * 32
            switch type {
            case .q8_0:
                for t in 0..<8 {
                    for i in 0..<4 {
                        let stored = block.load(fromByteOffset: 16 + 32 * t + 4 * j + i, as: UInt8.self)
                        target[Self.element(ofSlot: 4 * t + i)] = d * Float(Int(stored) - 128)
                    }
                }
            default:
                // Q4_1: d·q + m; Q4_0: d·(q − 8); Q5_0: d·(q − 16), as GGMLKernels.dequantize
                // computes them.
                let m = type == .q4_1 ? Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 16 + 2 * j, as: UInt16.self))) : 0
                let offset = type == .q4_1 ? 0 : type == .q5_0 ? 16 : 8
                let base = type == .q4_1 ? 32 : type == .q5_0 ? 48 : 16
                @inline(__always) func fifth(_ slot: Int) -> Int {
                    guard type == .q5_0 else { return 0 }
                    return Int(block.loadUnaligned(fromByteOffset: 16 + 4 * (slot / 4), as: UInt32.self) >> UInt32(4 * j + slot % 4) & 1) << 4
                }
                for c in 0..<4 {
                    for i in 0..<4 {
                        let byte = block.load(fromByteOffset: base + 32 * c + 4 * j + i, as: UInt8.self)
                        let low = Int(byte & 0x0F) | fifth(8 * c + i), high = Int(byte >> 4) | fifth(8 * c + 4 + i)
                        target[Self.element(ofSlot: 8 * c + i)] = d * Float(low - offset) + m
                        target[Self.element(ofSlot: 8 * c + 4 + i)] = d * Float(high - offset) + m
                    }
                }
            }
        }
    }
}
