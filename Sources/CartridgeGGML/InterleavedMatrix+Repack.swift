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
                        // Chunk c, byte 4j + i: slot 8c + i in the low nibble, 8c + 4 + i in the high.
                        let base = type == .q4_1 ? 32 : 16
                        for c in 0..<4 {
                            for i in 0..<4 {
                                let low = UInt8(weights[element(ofSlot: 8 * c + i)])
                                let high = UInt8(weights[element(ofSlot: 8 * c + 4 + i)])
                                out.storeBytes(of: low | high << 4, toByteOffset: base + 32 * c + 4 * j + i, as: UInt8.self)
                            }
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
                // Q4_1: d·q + m; Q4_0: d·(q − 8), as GGMLKernels.dequantize computes them.
                let m = type == .q4_1 ? Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 16 + 2 * j, as: UInt16.self))) : 0
                let offset = type == .q4_1 ? 0 : 8
                let base = type == .q4_1 ? 32 : 16
                for c in 0..<4 {
                    for i in 0..<4 {
                        let byte = block.load(fromByteOffset: base + 32 * c + 4 * j + i, as: UInt8.self)
                        target[Self.element(ofSlot: 8 * c + i)] = d * Float(Int(byte & 0x0F) - offset) + m
                        target[Self.element(ofSlot: 8 * c + 4 + i)] = d * Float(Int(byte >> 4) - offset) + m
                    }
                }
            }
        }
    }
}
