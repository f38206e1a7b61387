import Testing
@testable import CartridgeGGML

/// The dot kernels against fp64 references computed from the (fixture-checked) dequantizer.
///
/// Two references per row:
/// - exact: Σ wᵢ·x̂ᵢ in fp64 with x̂ the dequantized activation (scale · quant). The kernels'
///   integer sums are exact, so only fp32 rounding of scale products and accumulation order
///   differ: |error| ≤ 1e-6 · (Σ|wᵢ x̂ᵢ| + max|w| · Σ|x̂ᵢ| / 8) (the second term covers the
///   cancellation between d·q and the min offset of Q4_1/Q5_1/Q4_K/Q5_K; observed errors are
///   at most 5e-8 of Σ|wᵢ x̂ᵢ|).
/// - unquantized: Σ wᵢ·xᵢ in fp64. Rounding x to a quant moves it by at most half a step, so
///   |error| ≤ Σ_blocks (scale/2) · Σ_block |wᵢ|, plus the exact-reference tolerance.
@Suite("Quantized dot kernels")
struct DotKernelTests {
    static let quantizedTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    enum Path: String, CaseIterable, CustomStringConvertible {
        case dispatched  // the public entry (AVX2 on x86-64)
        case portable  // the Swift SIMD path non-x86 builds run
        var description: String { rawValue }
    }

    static func portableDot(_ type: GGMLType, _ row: UnsafeRawPointer, _ a: QuantizedActivation, count: Int) -> Float {
        switch type {
        case .q8_0: GGMLKernels.portableDotQ8_0(row, a, blocks: count / 32)
        case .q4_0: GGMLKernels.portableDotQ4_0(row, a, blocks: count / 32)
        case .q4_1: GGMLKernels.portableDotQ4_1(row, a, blocks: count / 32)
        case .q5_0: GGMLKernels.portableDotQ5_0(row, a, blocks: count / 32)
        case .q5_1: GGMLKernels.portableDotQ5_1(row, a, blocks: count / 32)
        case .q4_K: GGMLKernels.portableDotQ4_K(row, a, superBlocks: count / 256)
        case .q5_K: GGMLKernels.portableDotQ5_K(row, a, superBlocks: count / 256)
        case .q6_K: GGMLKernels.portableDotQ6_K(row, a, superBlocks: count / 256)
        default: .nan
        }
    }

    /// Checks `rows` random rows of `type` × one random activation of length `count`.
    func check(_ type: GGMLType, count: Int, rows: Int, path: Path, seed: UInt64) {
        var random = TestData.Random(seed: seed)
        let x = TestData.activation(count: count, random: &random)
        let activation = QuantizedActivation.allocate(capacity: count)
        defer { activation.deallocate() }
        x.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: count, into: activation) }
        let xhat = (0..<count).map { Double(activation.scales[$0 / 32]) * Double(activation.quants[$0]) }
        let halfSteps = (0..<count).map { Double(activation.scales[$0 / 32]) / 2 }
        var worstExact = 0.0, worstUnquantized = 0.0
        for r in 0..<rows {
            let row = TestData.randomRow(type, count: count, random: &random, zeroScaleBlock: r == 1 ? 0 : nil)
            let w = TestData.dequantized(type, row, count: count).map(Double.init)
            var exact = 0.0, unquantized = 0.0, magnitude = 0.0, absX = 0.0, stepBound = 0.0, maxW = 0.0
            for i in 0..<count {
                exact += w[i] * xhat[i]
                unquantized += w[i] * Double(x[i])
                magnitude += abs(w[i] * xhat[i])
                absX += abs(xhat[i])
                stepBound += abs(w[i]) * halfSteps[i]
                maxW = max(maxW, abs(w[i]))
            }
            let got = row.withUnsafeBytes { raw -> Float in
                switch path {
                case .dispatched: GGMLKernels.dot(type, row: raw.baseAddress!, activation: activation, count: count)
                case .portable: Self.portableDot(type, raw.baseAddress!, activation, count: count)
                }
            }
            let exactTolerance = 1e-6 * (magnitude + maxW * absX / 8) + 1e-30
            let exactError = abs(Double(got) - exact)
            #expect(exactError <= exactTolerance, "\(type) \(path) n=\(count) row \(r): \(got) vs exact \(exact) (error \(exactError), tolerance \(exactTolerance))")
            let unquantizedError = abs(Double(got) - unquantized)
            #expect(unquantizedError <= stepBound * 1.0001 + exactTolerance, "\(type) \(path) n=\(count) row \(r): \(got) vs unquantized \(unquantized) (bound \(stepBound))")
            worstExact = max(worstExact, exactError / max(magnitude, 1e-30))
            worstUnquantized = max(worstUnquantized, unquantizedError / max(magnitude, 1e-30))
        }
        // Not vacuous: the activation quantization error is visible, the exact agreement is tight.
        #expect(worstUnquantized > worstExact)
    }

    @Test("legacy types, SmolLM2 width 576, short and odd-block rows", arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1], Path.allCases)
    func legacy(type: GGMLType, path: Path) {
        check(type, count: 576, rows: 24, path: path, seed: 1 + UInt64(type.rawValue))
        check(type, count: 32, rows: 8, path: path, seed: 100 + UInt64(type.rawValue))
        check(type, count: 96, rows: 8, path: path, seed: 150 + UInt64(type.rawValue))  // pairs of blocks plus an odd one
        check(type, count: 1536, rows: 4, path: path, seed: 200 + UInt64(type.rawValue))
    }

    @Test("K types, SmolLM2 feed-forward width 1536 and one super-block", arguments: [GGMLType.q4_K, .q5_K, .q6_K], Path.allCases)
    func kQuants(type: GGMLType, path: Path) {
        check(type, count: 1536, rows: 12, path: path, seed: 300 + UInt64(type.rawValue))
        check(type, count: 256, rows: 8, path: path, seed: 400 + UInt64(type.rawValue))
    }

    @Test("the dispatched and the portable kernels agree closely", arguments: quantizedTypes)
    func pathsAgree(type: GGMLType) {
        var random = TestData.Random(seed: 77 + UInt64(type.rawValue))
        let count = 1536
        let x = TestData.activation(count: count, random: &random)
        let activation = QuantizedActivation.allocate(capacity: count)
        defer { activation.deallocate() }
        x.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: count, into: activation) }
        for _ in 0..<8 {
            let row = TestData.randomRow(type, count: count, random: &random)
            let (a, b) = row.withUnsafeBytes { raw in
                (GGMLKernels.dot(type, row: raw.baseAddress!, activation: activation, count: count),
                 Self.portableDot(type, raw.baseAddress!, activation, count: count))
            }
            #expect(abs(a - b) <= 1e-4 * max(abs(a), 1), "\(type): \(a) vs \(b)")
        }
    }

    @Test("activation quantization: scale, rounding, sums; both paths give identical quants")
    func quantization() {
        var random = TestData.Random(seed: 5)
        let count = 576
        let x = TestData.activation(count: count, random: &random)
        let a = QuantizedActivation.allocate(capacity: count)
        let b = QuantizedActivation.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate() }
        x.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: count, into: a) }
        x.withUnsafeBufferPointer { GGMLKernels.portableQuantize($0.baseAddress!, blocks: count / 32, into: b) }
        for i in 0..<count { #expect(a.quants[i] == b.quants[i], "quant \(i)") }
        for block in 0..<(count / 32) {
            #expect(a.scales[block].bitPattern == b.scales[block].bitPattern && a.sums[block].bitPattern == b.sums[block].bitPattern)
            let values = x[block * 32..<(block + 1) * 32]
            let amax = values.map(abs).max()!
            #expect(a.scales[block] == amax / 127)
            var total = 0
            for i in block * 32..<(block + 1) * 32 {
                let q = Int(a.quants[i])
                #expect(abs(q) <= 127)
                if amax > 0 { #expect(abs(Float(q) - x[i] * (1 / a.scales[block])) <= 0.5001, "element \(i)") } else { #expect(q == 0) }
                total += q
            }
            #expect(a.sums[block] == a.scales[block] * Float(total))
        }
        // Block 1 of the test activation is all zero; the largest element maps to ±127.
        #expect(a.scales[1] == 0 && a.sums[1] == 0)
        #expect((0..<32).contains { abs(a.quants[$0]) == 127 })
        #expect(a.value(at: 7) != 0)
    }

    @Test("a quantized activation can be reused for shorter vectors and re-quantized")
    func reuse() {
        let a = QuantizedActivation.allocate(capacity: 100)  // rounded up to 128
        defer { a.deallocate() }
        #expect(a.capacity == 128)
        let ones = [Float](repeating: 1, count: 128)
        ones.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: 128, into: a) }
        var row = [UInt8](repeating: 0, count: 34 * 4)
        for block in 0..<4 {
            row[block * 34] = 0x00; row[block * 34 + 1] = 0x3C  // d = 1
            for i in 0..<32 { row[block * 34 + 2 + i] = 2 }
        }
        let full = row.withUnsafeBytes { GGMLKernels.dot(.q8_0, row: $0.baseAddress!, activation: a, count: 128) }
        #expect(full == 256)
        let halves = [Float](repeating: -0.5, count: 64)
        halves.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: 64, into: a) }
        let short = row.withUnsafeBytes { GGMLKernels.dot(.q8_0, row: $0.baseAddress!, activation: a, count: 64) }
        #expect(short == -64)
    }
}

@Suite("Float row dot kernels")
struct FloatDotTests {
    static func rowBytes(_ type: GGMLType, _ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        for v in values {
            switch type {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            default: withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { bytes += $0 }
            }
        }
        return bytes
    }

    @Test("F32, F16 and BF16 rows against fp64, with and without SIMD tails", arguments: [GGMLType.f32, .f16, .bf16], [1, 7, 16, 33, 576, 1536])
    func floatRows(type: GGMLType, count: Int) {
        var random = TestData.Random(seed: UInt64(count) &* 31 &+ UInt64(type.rawValue))
        let x = (0..<count).map { _ in random.normal(deviation: 1) }
        let values = (0..<count).map { _ in random.normal(deviation: 0.05) }
        let row = Self.rowBytes(type, values)
        let w = TestData.dequantized(type, row, count: count).map(Double.init)
        var exact = 0.0, magnitude = 0.0
        for i in 0..<count {
            exact += w[i] * Double(x[i])
            magnitude += abs(w[i] * Double(x[i]))
        }
        let tolerance = 1e-6 * magnitude * Double(count).squareRoot() + 1e-30
        let got = row.withUnsafeBytes { raw in x.withUnsafeBufferPointer { GGMLKernels.dot(type, row: raw.baseAddress!, floats: $0.baseAddress!, count: count) } }
        #expect(abs(Double(got) - exact) <= tolerance, "\(type) n=\(count): \(got) vs \(exact)")
        if type != .f32 {
            let portable = row.withUnsafeBytes { raw in
                x.withUnsafeBufferPointer {
                    type == .f16
                        ? GGMLKernels.portableDotF16(raw.baseAddress!, $0.baseAddress!, count: count)
                        : GGMLKernels.portableDotBF16(raw.baseAddress!, $0.baseAddress!, count: count)
                }
            }
            #expect(abs(Double(portable) - exact) <= tolerance, "portable \(type) n=\(count): \(portable) vs \(exact)")
        }
        #expect(magnitude > 0)
    }
}
