import Testing
@testable import CartridgeGGML

/// The fp16 row helpers of the decoder's KV cache.
@Suite("fp16 rows")
struct HalfRowTests {
    /// Values that exercise rounding, subnormals, overflow and signed zero.
    static func values(count: Int, seed: UInt64) -> [Float] {
        var random = TestData.Random(seed: seed)
        var values = (0..<count).map { _ in Float(random.unit() * 2 - 1) * Float(1 << Int(random.next() % 12)) }
        let specials: [Float] = [0, -0.0, 1, -1, 65504, 65520, -70000, 6e-8, -3e-5, 1e-9, 0.1, 1.0009766, Float.infinity]
        for (i, special) in specials.enumerated() where i < count { values[i] = special }
        return values
    }

    @Test("storeHalf rounds each value as Float16 does (nearest even), at every length", arguments: [0, 1, 7, 8, 9, 64, 192, 203])
    func storeHalfRoundsLikeFloat16(count: Int) {
        let x = Self.values(count: count, seed: UInt64(count) + 1)
        var row = [UInt16](repeating: 0xFFFF, count: count + 1)  // one guard element
        x.withUnsafeBufferPointer { source in
            row.withUnsafeMutableBytes { GGMLKernels.storeHalf(source.baseAddress ?? UnsafePointer(bitPattern: 16)!, count: count, into: $0.baseAddress!) }
        }
        for i in 0..<count {
            #expect(row[i] == Float16(x[i]).bitPattern, "element \(i): \(x[i]) stored as 0x\(String(row[i], radix: 16))")
        }
        #expect(row[count] == 0xFFFF, "wrote past the row")
        if count > 6 {
            #expect(Float(Float16(bitPattern: row[4])) == 65504)
            #expect(Float(Float16(bitPattern: row[5])).isInfinite, "65520 rounds up to infinity in fp16")
            #expect(row[1] == 0x8000, "-0 keeps its sign")
        }
    }

    @Test("addScaledHalf adds weight × the fp16 values to every element, and only those", arguments: [1, 8, 15, 64, 197])
    func addScaledHalfAccumulates(count: Int) {
        let halves = Self.values(count: count, seed: 99).map { Float16($0).isFinite ? Float16($0) : 2 }
        var out = (0..<(count + 1)).map { Float($0) * 0.25 - 3 }
        let before = out
        let weight: Float = -0.37
        halves.map(\.bitPattern).withUnsafeBytes { row in
            out.withUnsafeMutableBufferPointer { GGMLKernels.addScaledHalf(row.baseAddress!, weight, count: count, into: $0.baseAddress!) }
        }
        for i in 0..<count {
            let expected = Double(before[i]) + Double(weight) * Double(Float(halves[i]))
            #expect(abs(Double(out[i]) - expected) <= 1e-6 * max(1, abs(expected)), "element \(i): \(out[i]) vs \(expected)")
        }
        #expect(out[count] == before[count], "changed an element past count")
    }
}
