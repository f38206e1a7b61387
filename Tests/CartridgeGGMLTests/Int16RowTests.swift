import Testing
@testable import CartridgeGGML

/// The q16 KV cache's rows: 16-bit integers in blocks of 32 with an fp32 scale each.
@Suite("Int16 block rows")
struct Int16RowTests {
    static func values(count: Int, seed: UInt64) -> [Float] {
        var random = TestData.Random(seed: seed)
        var x = (0..<count).map { _ in Float(random.unit() * 2 - 1) * Float(1 << Int(random.next() % 10)) }
        if count >= 64 {
            for j in 32..<64 { x[j] = 0 }  // an all-zero block: scale 0, quants 0
            x[5] = 900  // an outlier: its block's step grows, the others' do not
        }
        return x
    }

    @Test("quantizing keeps each value within half its block's step; zero blocks stay zero", arguments: [32, 64, 192])
    func quantizeWithinHalfAStep(count: Int) {
        let x = Self.values(count: count, seed: UInt64(count))
        var quants = [Int16](repeating: 0x7777, count: count + 1)
        var scales = [Float](repeating: -1, count: count / 32 + 1)
        quants.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { GGMLKernels.quantizeInt16Blocks(x, count: count, quants: q.baseAddress!, scales: $0.baseAddress!) }
        }
        #expect(quants[count] == 0x7777 && scales[count / 32] == -1, "wrote past the row")
        for b in 0..<(count / 32) {
            let block = x[(b * 32)..<(b * 32 + 32)]
            let amax = block.map(abs).max()!
            #expect(scales[b] == amax / 32767)
            for j in (b * 32)..<(b * 32 + 32) {
                #expect(abs(Double(scales[b]) * Double(quants[j]) - Double(x[j])) <= Double(amax) / 65534 * 1.0001, "element \(j)")
                #expect(abs(Int(quants[j])) <= 32767)
            }
        }
        if count >= 64 { #expect(scales[1] == 0 && quants[32..<64].allSatisfy { $0 == 0 }) }
    }

    /// The dispatched quantizer (AVX2 on x86-64) against the element-by-element definition, bit
    /// for bit: random rows, a zero block, exact ties, a block's extremes of both signs, a
    /// subnormal.
    @Test("the dispatched quantizer equals the element-by-element one bit for bit", arguments: [32, 192, 1536])
    func dispatchedEqualsPortable(count: Int) {
        var x = Self.values(count: count, seed: 99 + UInt64(count))
        x[0] = -x.map(abs).max()!  // the negative extreme of its block
        if count >= 96 {
            // Block 2's largest value 32767 makes its step exactly 1, so k + 0.5 are exact ties
            // (to even: 0.5 → 0, 1.5 → 2, −2.5 → −2).
            x[64] = 32767
            for j in 65..<96 { x[j] = Float(j - 80) + 0.5 }
            x[100] = Float.leastNonzeroMagnitude
        }
        var fast = [Int16](repeating: 0, count: count), slow = [Int16](repeating: 1, count: count)
        var fastScales = [Float](repeating: 0, count: count / 32), slowScales = [Float](repeating: 1, count: count / 32)
        fast.withUnsafeMutableBufferPointer { q in
            fastScales.withUnsafeMutableBufferPointer { GGMLKernels.quantizeInt16Blocks(x, count: count, quants: q.baseAddress!, scales: $0.baseAddress!) }
        }
        slow.withUnsafeMutableBufferPointer { q in
            slowScales.withUnsafeMutableBufferPointer { GGMLKernels.portableQuantizeInt16Blocks(x, blocks: count / 32, quants: q.baseAddress!, scales: $0.baseAddress!) }
        }
        #expect(fastScales == slowScales)
        let mismatches = (0..<count).filter { fast[$0] != slow[$0] }
        #expect(mismatches.isEmpty, "quants differ at \(mismatches.prefix(8)): \(mismatches.prefix(8).map { (fast[$0], slow[$0]) })")
        if count >= 96 { #expect(fast[80] == 0 && fast[81] == 2 && fast[77] == -2, "ties to even: \(fast[77]) \(fast[80]) \(fast[81])") }
    }

    @Test("dot and scaled add equal their fp64 sums over the dequantized values", arguments: [32, 96, 192])
    func dotAndAdd(count: Int) {
        let x = Self.values(count: count, seed: 7)
        let y = Self.values(count: count, seed: 8)
        var quants = [Int16](repeating: 0, count: count)
        var scales = [Float](repeating: 0, count: count / 32)
        quants.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { GGMLKernels.quantizeInt16Blocks(x, count: count, quants: q.baseAddress!, scales: $0.baseAddress!) }
        }
        let dequantized = (0..<count).map { Double(scales[$0 / 32]) * Double(quants[$0]) }
        let exact = (0..<count).reduce(0.0) { $0 + dequantized[$1] * Double(y[$1]) }
        let magnitude = (0..<count).reduce(0.0) { $0 + abs(dequantized[$1] * Double(y[$1])) }
        let got = GGMLKernels.dotInt16Blocks(quants, scales, y, count: count)
        #expect(abs(Double(got) - exact) <= 1e-6 * magnitude + 1e-6, "\(got) vs \(exact)")
        var out = y + [42]
        out.withUnsafeMutableBufferPointer { GGMLKernels.addScaledInt16Blocks(quants, scales, 0.25, count: count, into: $0.baseAddress!) }
        for j in 0..<count {
            let expected = Double(y[j]) + 0.25 * dequantized[j]
            #expect(abs(Double(out[j]) - expected) <= 1e-6 * max(1, abs(expected)), "element \(j)")
        }
        #expect(out[count] == 42, "changed an element past count")
    }

    /// The values half of attention over a run of positions (`addScaledInt16Rows`, the heads'
    /// sums held in registers) against `addScaledInt16Blocks` called once per position, bit for
    /// bit: 1...4 heads (4 runs as 3 + 1), one to 37 positions, heads of one to four blocks, rows
    /// with other heads' elements between them, and nothing outside the heads' outputs written.
    @Test("values over a run of positions equal the position-by-position adds bit for bit", arguments: [32, 64, 128])
    func valuesOverPositions(count: Int) {
        var random = TestData.Random(seed: 0xA77E + UInt64(count))
        let rowElements = 3 * count  // this head's elements sit in the middle of a wider row
        let offset = count
        let rowBytes = rowElements * 2 + rowElements / 32 * 4
        for heads in 1...4 {
            for positions in [1, 2, 7, 37] {
                // Each row: rowElements int16 quants, then rowElements / 32 fp32 scales.
                var rows = [UInt8](repeating: 0, count: positions * rowBytes)
                rows.withUnsafeMutableBytes { raw in
                    for t in 0..<positions {
                        let x = (0..<rowElements).map { _ in Float(random.unit() * 2 - 1) * Float(1 << Int(random.next() % 6)) }
                        let row = raw.baseAddress! + t * rowBytes
                        GGMLKernels.quantizeInt16Blocks(
                            x, count: rowElements, quants: row.assumingMemoryBound(to: Int16.self),
                            scales: (row + rowElements * 2).assumingMemoryBound(to: Float.self))
                    }
                }
                let stride = positions + 3
                let weights = (0..<(heads * stride)).map { _ in Float(random.unit()) }
                let start = (0..<(heads * count + 1)).map { _ in Float(random.unit() * 2 - 1) }  // one guard element past the heads
                var expected = start, got = start
                rows.withUnsafeBytes { raw in
                    let quants = raw.baseAddress! + offset * 2, scales = raw.baseAddress! + rowElements * 2 + offset / 32 * 4
                    weights.withUnsafeBufferPointer { w in
                        expected.withUnsafeMutableBufferPointer { out in
                            for t in 0..<positions {
                                GGMLKernels.addScaledInt16Blocks(
                                    (quants + t * rowBytes).assumingMemoryBound(to: Int16.self), (scales + t * rowBytes).assumingMemoryBound(to: Float.self),
                                    weights: w.baseAddress! + t, stride: stride, heads: heads, count: count, into: out.baseAddress!)
                            }
                        }
                        got.withUnsafeMutableBufferPointer { out in
                            GGMLKernels.addScaledInt16Rows(
                                quants: quants, scales: scales, rowBytes: rowBytes, positions: positions,
                                weights: w.baseAddress!, stride: stride, heads: heads, count: count, into: out.baseAddress!)
                        }
                    }
                }
                let differing = (0..<got.count).filter { got[$0].bitPattern != expected[$0].bitPattern }
                #expect(differing.isEmpty, "\(heads) heads, \(positions) positions: differ at \(differing.prefix(6)): \(differing.prefix(6).map { (got[$0], expected[$0]) })")
                #expect(got[heads * count] == start[heads * count], "wrote past the heads' outputs")
                #expect(got != start, "added nothing")
            }
        }
    }
}
