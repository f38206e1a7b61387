import Testing
@testable import CartridgeGGML

/// The 16-bit activation dot kernels against fp64 references computed from the (fixture-checked)
/// dequantizer, as `DotKernelTests` checks the 8-bit ones:
/// - exact: Σ wᵢ·x̂ᵢ in fp64 with x̂ the dequantized wide activation (scale · int16 quant). Only
///   fp32 rounding (scale products, int32 → fp32 conversion, accumulation order) differs:
///   |error| ≤ 1e-6 · (Σ|wᵢ x̂ᵢ| + max|w| · Σ|x̂ᵢ| / 8) (the second term covers the cancellation
///   between d·q and the min offset of Q4_1/Q5_1/Q4_K/Q5_K).
/// - unquantized: Σ wᵢ·xᵢ in fp64, within Σ_blocks (scale/2) · Σ_block |wᵢ| (scale = max|x|/32767)
///   plus the exact tolerance.
@Suite("16-bit activation dot kernels")
struct WideDotKernelTests {
    static let quantizedTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    enum Path: String, CaseIterable, CustomStringConvertible {
        case dispatched  // the public entry (KernelInstructionSet.active's kernels)
        case portable  // the Swift SIMD path non-x86 builds run
        case avx2  // the AVX2 kernels, called directly (x86-64 only)
        case vnni  // the AVX-512 VNNI kernel where the type has one, else AVX2 (AVX-512 VNNI CPUs only)
        var description: String { rawValue }

        /// Why this path cannot run here, or nil when it can.
        var unavailableReason: String? {
            #if arch(x86_64)
            if self == .vnni && KernelInstructionSet.detected != .avx512VNNI { return "this CPU has no AVX-512 VNNI" }
            return nil
            #else
            return self == .avx2 || self == .vnni ? "not an x86-64 build" : nil
            #endif
        }
    }

    #if arch(x86_64)
    static func avx2Dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ a: WideQuantizedActivation, count: Int) -> Float {
        switch type {
        case .q8_0: GGMLKernels.wideDotQ8_0AVX2(row, a, blocks: count / 32)
        case .q4_0: GGMLKernels.wideDotQ4_0AVX2(row, a, blocks: count / 32)
        case .q4_1: GGMLKernels.wideDotQ4_1AVX2(row, a, blocks: count / 32)
        case .q5_0: GGMLKernels.wideDotQ5_0AVX2(row, a, blocks: count / 32)
        case .q5_1: GGMLKernels.wideDotQ5_1AVX2(row, a, blocks: count / 32)
        case .q4_K: GGMLKernels.wideDotQ4_KAVX2(row, a, superBlocks: count / 256)
        case .q5_K: GGMLKernels.wideDotQ5_KAVX2(row, a, superBlocks: count / 256)
        case .q6_K: GGMLKernels.wideDotQ6_KAVX2(row, a, superBlocks: count / 256)
        default: .nan
        }
    }
    #endif

    static func portableDot(_ type: GGMLType, _ row: UnsafeRawPointer, _ a: WideQuantizedActivation, count: Int) -> Float {
        switch type {
        case .q8_0: GGMLKernels.portableWideDotQ8_0(row, a, blocks: count / 32)
        case .q4_0: GGMLKernels.portableWideDotQ4_0(row, a, blocks: count / 32)
        case .q4_1: GGMLKernels.portableWideDotQ4_1(row, a, blocks: count / 32)
        case .q5_0: GGMLKernels.portableWideDotQ5_0(row, a, blocks: count / 32)
        case .q5_1: GGMLKernels.portableWideDotQ5_1(row, a, blocks: count / 32)
        case .q4_K: GGMLKernels.portableWideDotQ4_K(row, a, superBlocks: count / 256)
        case .q5_K: GGMLKernels.portableWideDotQ5_K(row, a, superBlocks: count / 256)
        case .q6_K: GGMLKernels.portableWideDotQ6_K(row, a, superBlocks: count / 256)
        default: .nan
        }
    }

    static func dot(_ type: GGMLType, _ row: [UInt8], _ a: WideQuantizedActivation, count: Int, path: Path) -> Float {
        row.withUnsafeBytes { raw -> Float in
            switch path {
            case .dispatched: GGMLKernels.dot(type, row: raw.baseAddress!, wideActivation: a, count: count)
            case .portable: portableDot(type, raw.baseAddress!, a, count: count)
            #if arch(x86_64)
            case .avx2: avx2Dot(type, raw.baseAddress!, a, count: count)
            case .vnni:
                GGMLKernels.vnniDot(type, raw.baseAddress!, a, count: count) ?? avx2Dot(type, raw.baseAddress!, a, count: count)
            #else
            case .avx2, .vnni: .nan
            #endif
            }
        }
    }

    static func quantized(_ x: [Float]) -> WideQuantizedActivation {
        let activation = WideQuantizedActivation.allocate(capacity: x.count)
        x.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: x.count, into: activation) }
        return activation
    }

    /// Checks `rows` random rows of `type` × one random activation of length `count`.
    func check(_ type: GGMLType, count: Int, rows: Int, path: Path, seed: UInt64) {
        if let reason = path.unavailableReason {
            print("skipped: \(type) \(path) kernels: \(reason)")
            return
        }
        var random = TestData.Random(seed: seed)
        let x = TestData.activation(count: count, random: &random)
        let activation = Self.quantized(x)
        defer { activation.deallocate() }
        let xhat = (0..<count).map { Double(activation.scales[$0 / 32]) * Double(activation.quants[WideQuantizedActivation.quantIndex(of: $0)]) }
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
            let got = Self.dot(type, row, activation, count: count, path: path)
            let exactTolerance = 1e-6 * (magnitude + maxW * absX / 8) + 1e-30
            let exactError = abs(Double(got) - exact)
            #expect(exactError <= exactTolerance, "\(type) \(path) n=\(count) row \(r): \(got) vs exact \(exact) (error \(exactError), tolerance \(exactTolerance))")
            let unquantizedError = abs(Double(got) - unquantized)
            #expect(unquantizedError <= stepBound * 1.0001 + exactTolerance, "\(type) \(path) n=\(count) row \(r): \(got) vs unquantized \(unquantized) (error \(unquantizedError), bound \(stepBound))")
            worstExact = max(worstExact, exactError / max(magnitude, 1e-30))
            worstUnquantized = max(worstUnquantized, unquantizedError / max(magnitude, 1e-30))
        }
        // Not vacuous: the rows were not all zero and the exact agreement is at fp32 level.
        #expect(worstExact < 1e-6, "\(type) \(path) n=\(count): worst relative exact error \(worstExact)")
        #expect(worstUnquantized > 0)
    }

    @Test("legacy types, SmolLM2 widths 576 and 1536, short and odd-block rows", arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1], Path.allCases)
    func legacy(type: GGMLType, path: Path) {
        check(type, count: 576, rows: 24, path: path, seed: 1 + UInt64(type.rawValue))
        check(type, count: 1536, rows: 8, path: path, seed: 200 + UInt64(type.rawValue))
        check(type, count: 32, rows: 8, path: path, seed: 100 + UInt64(type.rawValue))
        check(type, count: 96, rows: 8, path: path, seed: 150 + UInt64(type.rawValue))  // pairs of blocks plus an odd one
    }

    @Test("K types, one super-block and SmolLM2 feed-forward width 1536", arguments: [GGMLType.q4_K, .q5_K, .q6_K], Path.allCases)
    func kQuants(type: GGMLType, path: Path) {
        check(type, count: 256, rows: 12, path: path, seed: 400 + UInt64(type.rawValue))
        check(type, count: 1536, rows: 12, path: path, seed: 300 + UInt64(type.rawValue))
    }

    @Test("the dispatched and the portable kernels agree closely", arguments: quantizedTypes)
    func pathsAgree(type: GGMLType) {
        var random = TestData.Random(seed: 77 + UInt64(type.rawValue))
        let count = 1536
        let activation = Self.quantized(TestData.activation(count: count, random: &random))
        defer { activation.deallocate() }
        for _ in 0..<8 {
            let row = TestData.randomRow(type, count: count, random: &random)
            let a = Self.dot(type, row, activation, count: count, path: .dispatched)
            let b = Self.dot(type, row, activation, count: count, path: .portable)
            #expect(abs(a - b) <= 1e-4 * max(abs(a), 1), "\(type): \(a) vs \(b)")
        }
    }

    /// The AVX-512 VNNI kernels against the AVX2 ones on the same rows: the same exact integer
    /// sums and scaling, so they differ by fp32 accumulation order only; and the dispatched
    /// entry runs the VNNI kernel (bit for bit) unless CARTRIDGE_KERNELS asked for AVX2.
    @Test("AVX-512 VNNI and AVX2 kernels agree; dispatch picks VNNI where the CPU has it", arguments: [GGMLType.q8_0, .q4_0, .q4_1, .q5_0])
    func vnniAgreesWithAVX2(type: GGMLType) throws {
        #if arch(x86_64)
        if let reason = Path.vnni.unavailableReason {
            print("skipped: \(type) VNNI against AVX2: \(reason)")
            return
        }
        var random = TestData.Random(seed: 4_242 + UInt64(type.rawValue))
        for count in [32, 96, 576, 1536] {
            let activation = Self.quantized(TestData.activation(count: count, random: &random))
            defer { activation.deallocate() }
            for r in 0..<8 {
                let row = TestData.randomRow(type, count: count, random: &random, zeroScaleBlock: r == 1 ? 0 : nil)
                let vnni = try row.withUnsafeBytes { try #require(GGMLKernels.vnniDot(type, $0.baseAddress!, activation, count: count)) }
                let avx2 = Self.dot(type, row, activation, count: count, path: .avx2)
                let dispatched = Self.dot(type, row, activation, count: count, path: .dispatched)
                let w = TestData.dequantized(type, row, count: count)
                let magnitude = (0..<count).reduce(Float(0)) { $0 + abs(w[$1] * activation.value(at: $1)) }
                let tolerance = 2e-6 * max(abs(avx2), 1) + 1e-6 * magnitude
                #expect(abs(vnni - avx2) <= tolerance, "\(type) n=\(count) row \(r): VNNI \(vnni) vs AVX2 \(avx2)")
                if KernelInstructionSet.active == .avx512VNNI {
                    #expect(dispatched.bitPattern == vnni.bitPattern, "\(type): the dispatched dot did not run the VNNI kernel")
                }
            }
        }
        #else
        print("skipped: VNNI against AVX2: not an x86-64 build")
        #endif
    }

    /// Over random rows, the root-mean-square error against the unquantized activation: the
    /// 16-bit kernels are at least 50 times closer than the 8-bit ones (the step ratio is 258).
    @Test("16-bit activations are at least 50x more accurate than 8-bit ones", arguments: quantizedTypes)
    func improvement(type: GGMLType) {
        var random = TestData.Random(seed: 900 + UInt64(type.rawValue))
        let count = 1536
        let x = TestData.activation(count: count, random: &random)
        let wide = Self.quantized(x)
        let narrow = QuantizedActivation.allocate(capacity: count)
        defer { wide.deallocate(); narrow.deallocate() }
        x.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: count, into: narrow) }
        var wideSquares = 0.0, narrowSquares = 0.0
        for _ in 0..<16 {
            let row = TestData.randomRow(type, count: count, random: &random)
            let w = TestData.dequantized(type, row, count: count).map(Double.init)
            var unquantized = 0.0
            for i in 0..<count { unquantized += w[i] * Double(x[i]) }
            let wideDot = Self.dot(type, row, wide, count: count, path: .dispatched)
            let narrowDot = row.withUnsafeBytes { GGMLKernels.dot(type, row: $0.baseAddress!, activation: narrow, count: count) }
            wideSquares += (Double(wideDot) - unquantized) * (Double(wideDot) - unquantized)
            narrowSquares += (Double(narrowDot) - unquantized) * (Double(narrowDot) - unquantized)
        }
        let ratio = (narrowSquares / max(wideSquares, 1e-300)).squareRoot()
        #expect(narrowSquares > 0)
        #expect(ratio >= 50, "\(type): 8-bit RMS error \((narrowSquares / 16).squareRoot()), 16-bit \((wideSquares / 16).squareRoot()), ratio \(ratio)")
    }

    @Test("activation quantization: scale, rounding, sums; both paths give identical quants")
    func quantization() {
        var random = TestData.Random(seed: 5)
        let count = 576
        let x = TestData.activation(count: count, random: &random)
        let a = Self.quantized(x)
        let b = WideQuantizedActivation.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate() }
        x.withUnsafeBufferPointer { GGMLKernels.portableWideQuantize($0.baseAddress!, blocks: count / 32, into: b) }
        for i in 0..<count { #expect(a.quants[i] == b.quants[i], "quant \(i)") }
        for block in 0..<(count / 32) {
            #expect(a.scales[block].bitPattern == b.scales[block].bitPattern && a.sums[block].bitPattern == b.sums[block].bitPattern)
            let values = x[block * 32..<(block + 1) * 32]
            let amax = values.map(abs).max()!
            #expect(a.scales[block] == amax / 32639)
            var total = 0
            for i in block * 32..<(block + 1) * 32 {
                let q = Int(a.quants[WideQuantizedActivation.quantIndex(of: i)])
                #expect(abs(q) <= 32639)
                if amax > 0 { #expect(abs(Float(q) - x[i] * (1 / a.scales[block])) <= 0.5001, "element \(i)") } else { #expect(q == 0) }
                total += q
            }
            #expect(a.sums[block] == a.scales[block] * Float(total))
        }
        // Block 1 of the test activation is all zero; the largest element maps to ±32639 (maximumQuant).
        #expect(a.scales[1] == 0 && a.sums[1] == 0)
        #expect((0..<32).contains { abs(a.quants[$0]) == 32639 })
        for i in [0, 1, 7, 30, 31, 64, 95] { #expect(abs(a.value(at: i) - x[i]) <= a.scales[i / 32] / 2 * 1.0001, "value(at: \(i))") }
        // Storage order within a block: even elements, then odd ones.
        let slots: [Int] = (0..<64).map { WideQuantizedActivation.quantIndex(of: $0) }
        var expectedSlots: [Int] = []
        for element in 0..<64 { expectedSlots.append(element / 32 * 32 + element % 2 * 16 + element % 32 / 2) }
        #expect(slots == expectedSlots)
    }

    /// The largest int32 lane sums the kernels can form (the overflow bounds of
    /// `GGMLKernels+Wide.swift`): every weight at its most negative value, every activation
    /// quant at −32639 (the largest, `maximumQuant`). The results are exact small integers times powers of two.
    @Test("extreme weights and activations do not overflow", arguments: Path.allCases)
    func extremes(path: Path) {
        if let reason = path.unavailableReason {
            print("skipped: extremes on the \(path) kernels: \(reason)")
            return
        }
        let count = 512
        let activation = Self.quantized([Float](repeating: -32639, count: count))  // quants −32639, scale 1
        defer { activation.deallocate() }
        #expect(activation.quants[0] == -32639 && activation.scales[0] == 1)
        let one: [UInt8] = [0x00, 0x3C]  // fp16 1.0
        // Q8_0: weights −128, d = 1: Σ 128 · 32639 (every partial sum is exact in fp32).
        var q8: [UInt8] = []
        for _ in 0..<(count / 32) { q8 += one + [UInt8](repeating: 0x80, count: 32) }
        #expect(Self.dot(.q8_0, q8, activation, count: count, path: path) == Float(128 * 32639 * count))
        // Q6_K: q = 0 (weight −32), sub-block scales −128, d = 1: every weight is 4096.
        var q6: [UInt8] = []
        for _ in 0..<(count / 256) { q6 += [UInt8](repeating: 0, count: 192) + [UInt8](repeating: 0x80, count: 16) + one }
        #expect(Self.dot(.q6_K, q6, activation, count: count, path: path) == Float(-4096 * 32639 * count))
        // Q5_0: q = 31 (weight 15), Q5_1 likewise unsigned 31 with m = 0.
        var q5: [UInt8] = []
        for _ in 0..<(count / 32) { q5 += one + [0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0xFF, count: 16) }
        #expect(Self.dot(.q5_0, q5, activation, count: count, path: path) == Float(-15 * 32639 * count))
    }

    @Test("a wide activation can be reused for shorter vectors and re-quantized")
    func reuse() {
        let a = WideQuantizedActivation.allocate(capacity: 100)  // rounded up to 128
        defer { a.deallocate() }
        #expect(a.capacity == 128)
        let ones = [Float](repeating: 1, count: 128)
        ones.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: 128, into: a) }
        var row = [UInt8](repeating: 0, count: 34 * 4)
        for block in 0..<4 {
            row[block * 34] = 0x00; row[block * 34 + 1] = 0x3C  // d = 1
            for i in 0..<32 { row[block * 34 + 2 + i] = 2 }
        }
        #expect(Self.dot(.q8_0, row, a, count: 128, path: .dispatched) == 256)
        let halves = [Float](repeating: -0.5, count: 64)
        halves.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: 64, into: a) }
        #expect(Self.dot(.q8_0, row, a, count: 64, path: .dispatched) == -64)
        #expect(Self.dot(.q8_0, row, a, count: 64, path: .portable) == -64)
    }
}
