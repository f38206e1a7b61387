import Testing
@testable import CartridgeGGML

/// The interleaved (repacked, eight rows per `vpdpbusd`) matrices against a float64 sum of the
/// dequantized weights times the activation's quantized values: the kernels' integer block sums
/// are exact, so the only error is fp32 scaling and accumulation. Also the byte planes the
/// kernels multiply, and what the repacking refuses.
@Suite("interleaved Q4_0/Q4_1/Q5_0/Q8_0/Q4_K/Q6_K matrices (AVX-512 VNNI)")
struct InterleavedMatrixTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q6_K]

    /// Why the interleaved kernels cannot run here, or nil.
    static var unavailableReason: String? {
        #if arch(x86_64)
        if KernelInstructionSet.detected != .avx512VNNI { return "this CPU has no AVX-512 VNNI (kernels: \(KernelInstructionSet.detected))" }
        if !InterleavedMatrix.isAvailable { return "the interleaved kernels are turned off (CARTRIDGE_KERNELS / CARTRIDGE_INTERLEAVE)" }
        return nil
        #else
        return "the interleaved kernels are x86-64 only"
        #endif
    }

    /// Σ dequantized(w)·x̂ in float64, and Σ |w·x̂| (the scale of fp32 rounding).
    static func reference(_ w: [Float], _ a: WideQuantizedActivation, count: Int) -> (Double, Double) {
        var sum = 0.0, magnitude = 0.0
        for i in 0..<count {
            let p = Double(w[i]) * Double(a.value(at: i))
            sum += p
            magnitude += abs(p)
        }
        return (sum, magnitude)
    }

    /// rows × count matrix of random rows; row 1 has its first block's scales zeroed.
    static func matrix(_ type: GGMLType, rows: Int, count: Int, random: inout TestData.Random) -> [[UInt8]] {
        (0..<rows).map { r in TestData.randomRow(type, count: count, random: &random, zeroScaleBlock: r == 1 ? 0 : nil) }
    }

    func check(_ type: GGMLType, rows: [[UInt8]], activations: [WideQuantizedActivation], count: Int, groups: Range<Int>, label: String) {
        let source = rows.flatMap { $0 }
        let matrix = source.withUnsafeBytes { InterleavedMatrix(repacking: type, rows: rows.count, count: count, source: $0.baseAddress!) }
        guard let matrix else {
            Issue.record("\(type): \(rows.count)×\(count) was not repacked")
            return
        }
        let columns = activations.count
        let stride = groups.count * 8 + 3
        var out = [Float](repeating: -7777, count: columns * stride)
        activations.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                matrix.multiply(groups: groups, activations: a.baseAddress!, columns: columns, into: o.baseAddress!, stride: stride)
            }
        }
        for c in 0..<columns {
            for (k, r) in (groups.lowerBound * 8..<groups.upperBound * 8).enumerated() {
                let (exact, magnitude) = Self.reference(TestData.dequantized(type, rows[r], count: count), activations[c], count: count)
                let got = Double(out[c * stride + k])
                #expect(abs(got - exact) <= 2e-6 * magnitude + 1e-6, "\(label) \(type) n=\(count) row \(r) column \(c)/\(columns): \(got) vs \(exact)")
            }
            for g in (groups.count * 8)..<stride { #expect(out[c * stride + g] == -7777, "\(label) \(type): wrote outside column \(c)'s rows") }
        }
    }

    @Test("every row and column equals the float64 sum, 1 to 9 columns, three widths", arguments: types, [1, 2, 3, 4, 5, 9])
    func multiplyMatchesFloat64(type: GGMLType, columns: Int) throws {
        if let reason = Self.unavailableReason {
            print("InterleavedMatrixTests skipped: \(reason)")
            return
        }
        var random = TestData.Random(seed: 9_100 + UInt64(type.rawValue) * 17 + UInt64(columns))
        for count in type.layout!.blockSize == 256 ? [256, 1536] : [32, 576, 1536] {
            let rows = Self.matrix(type, rows: 24, count: count, random: &random)
            let activations = (0..<columns).map { _ in WideDotKernelTests.quantized(TestData.activation(count: count, random: &random)) }
            defer { for a in activations { a.deallocate() } }
            check(type, rows: rows, activations: activations, count: count, groups: 0..<3, label: "all groups")
            check(type, rows: rows, activations: activations, count: count, groups: 1..<3, label: "groups 1..<3")
        }
    }

    /// The extremes of the byte split: quants ±32639 (hi ±127, lo ±127) and their neighbours
    /// against the extreme weights (Q8_0 −128 and 127, nibbles 0 and 15).
    @Test("extreme weights and activation quants", arguments: types)
    func extremes(type: GGMLType) {
        if let reason = Self.unavailableReason {
            print("InterleavedMatrixTests skipped: \(reason)")
            return
        }
        let count = type.layout!.blockSize == 256 ? 256 : 64
        var random = TestData.Random(seed: 42)
        var rows = Self.matrix(type, rows: 8, count: count, random: &random)
        let layout = type.layout!
        // The weight bytes: after the fp16 d (and m / dmin); Q6_K's ql and qh come first.
        let payload = type == .q6_K ? 0..<192 : (type == .q4_1 || type == .q4_K ? 4 : 2)..<layout.bytesPerBlock
        for r in 0..<8 {
            for b in 0..<(count / layout.blockSize) {
                for k in payload {
                    let byte: UInt8 = type == .q8_0 ? (r % 2 == 0 ? 0x80 : 0x7F) : (r % 2 == 0 ? 0x00 : 0xFF)
                    rows[r][b * layout.bytesPerBlock + k] = (r >= 4 && k % 3 == 0) ? ~byte : byte
                }
            }
        }
        var x = [Float](repeating: 0, count: count)
        for i in 0..<count { x[i] = i % 2 == 0 ? 1 : (i % 5 == 0 ? -1 : -0.99999) }
        x[3] = -1
        let a = WideDotKernelTests.quantized(x)
        defer { a.deallocate() }
        #expect(a.quants[0] == 32639 && a.quants[WideQuantizedActivation.quantIndex(of: 3)] == -32639)
        check(type, rows: rows, activations: [a], count: count, groups: 0..<1, label: "extremes")
    }

    @Test("the byte planes recompose every quant")
    func planesRecomposeQuants() {
        var random = TestData.Random(seed: 5)
        var x = TestData.activation(count: 96, random: &random)
        x[0] = 1e30
        x[70] = -3
        let a = WideQuantizedActivation.allocate(capacity: 96)
        defer { a.deallocate() }
        x.withUnsafeBufferPointer { GGMLKernels.quantize($0.baseAddress!, count: 96, into: a) }
        if InterleavedMatrix.isAvailable {
            // quantize filled the planes itself (in its AVX2 loop on x86-64): the same bytes as
            // the portable pass.
            let filled = Array(UnsafeBufferPointer(start: a.planes, count: 3 * 96))
            GGMLKernels.splitPlanes(a, blocks: 3)
            let split = Array(UnsafeBufferPointer(start: a.planes, count: 3 * 96))
            #expect(filled == split, "planes filled by quantize differ from splitPlanes' at \((0..<(3 * 96)).filter { filled[$0] != split[$0] })")
        } else {
            GGMLKernels.splitPlanes(a, blocks: 3)
        }
        #expect(a.quants[0] == WideQuantizedActivation.maximumQuant)
        for b in 0..<3 {
            for s in 0..<32 {
                let q = Int(a.quants[b * 32 + s])
                let low = Int(Int8(bitPattern: a.planes[b * 96 + s])), high = Int(Int8(bitPattern: a.planes[b * 96 + 32 + s]))
                #expect(256 * high + low == q, "block \(b) slot \(s): \(high)·256 + \(low) ≠ \(q)")
            }
            let total = (0..<32).reduce(0) { $0 + Int(a.quants[b * 32 + $1]) }
            #expect(Int(UnsafeRawPointer(a.planes + b * 96).loadUnaligned(fromByteOffset: 64, as: Int32.self)) == total, "block \(b) Σ q")
            // Elements 0..<16 are slots 0..<8 and 16..<24.
            let first = (0..<32).filter { $0 % 16 < 8 }.reduce(0) { $0 + Int(a.quants[b * 32 + $1]) }
            #expect(Int(UnsafeRawPointer(a.planes + b * 96).loadUnaligned(fromByteOffset: 68, as: Int32.self)) == first, "block \(b) Σ q of elements 0..<16")
            #expect(Int(UnsafeRawPointer(a.planes + b * 96).loadUnaligned(fromByteOffset: 72, as: Int32.self)) == total - first, "block \(b) Σ q of elements 16..<32")
        }
    }

    /// Embedding lookups read rows back from the repacked copy (the file's pages are dropped):
    /// they must equal the ggml dequantization of the original rows exactly. Runs on any CPU.
    @Test("rows read back from the copy equal the ggml rows dequantized", arguments: types)
    func dequantizedRowsMatch(type: GGMLType) {
        var random = TestData.Random(seed: 77 + UInt64(type.rawValue))
        let count = type.layout!.blockSize == 256 ? 512 : 576
        let rows = Self.matrix(type, rows: 16, count: count, random: &random)
        let source = rows.flatMap { $0 }
        let matrix = source.withUnsafeBytes { InterleavedMatrix(repacking: type, rows: 16, count: count, source: $0.baseAddress!) }!
        var out = [Float](repeating: .nan, count: count)
        for r in 0..<16 {
            out.withUnsafeMutableBufferPointer { matrix.dequantizeRow(r, into: $0.baseAddress!) }
            let expected = TestData.dequantized(type, rows[r], count: count)
            let mismatches = (0..<count).filter { out[$0] != expected[$0] }
            #expect(mismatches.isEmpty, "\(type) row \(r): \(mismatches.count) elements differ, first \(mismatches.first.map { "\($0): \(out[$0]) vs \(expected[$0])" } ?? "")")
        }
    }

    /// Matrices carved from one arena, and one that no longer fits (allocated instead), read
    /// back exactly; the arena outlives its last user only as long as a matrix keeps it.
    @Test("matrices carved from an arena, and one past its end, read back exactly")
    func arenaCarvesMatrices() throws {
        var random = TestData.Random(seed: 4242)
        let shapes: [(GGMLType, Int)] = [(.q8_0, 576), (.q4_K, 512), (.q4_0, 64)]
        let rows = shapes.map { Self.matrix($0.0, rows: 16, count: $0.1, random: &random) }
        let sizes = shapes.map { InterleavedMatrix.repackedByteCount(type: $0.0, rows: 16, count: $0.1)! }
        #expect(sizes == [16 / 8 * 18 * 272, 16 / 8 * 2 * 1184, 16 / 8 * 2 * 144])
        #expect(InterleavedMatrix.repackedByteCount(type: .q5_1, rows: 16, count: 64) == nil)
        // Room for the first two only.
        var arena = InterleavedArena(byteCount: InterleavedArena.footprint(of: sizes[0]) + InterleavedArena.footprint(of: sizes[1]))
        let matrices = try (0..<3).map { m in
            let source = rows[m].flatMap { $0 }
            return try #require(source.withUnsafeBytes {
                InterleavedMatrix(repacking: shapes[m].0, rows: 16, count: shapes[m].1, source: $0.baseAddress!, arena: arena)
            })
        }
        #expect(matrices[0].arena === arena && matrices[1].arena === arena)
        #expect(matrices[2].arena == nil, "the third matrix does not fit and is allocated")
        arena = nil  // the matrices keep it
        for (m, matrix) in matrices.enumerated() {
            var out = [Float](repeating: .nan, count: shapes[m].1)
            for r in [0, 7, 8, 15] {
                out.withUnsafeMutableBufferPointer { matrix.dequantizeRow(r, into: $0.baseAddress!) }
                #expect(out == TestData.dequantized(shapes[m].0, rows[m][r], count: shapes[m].1), "matrix \(m) row \(r)")
            }
        }
    }

    @Test("only Q4_0/Q4_1/Q5_0/Q8_0/Q4_K/Q6_K with rows in eights and whole blocks are repacked")
    func refusals() {
        let bytes = [UInt8](repeating: 0, count: 16 * 2 * 34)
        bytes.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            #expect(InterleavedMatrix(repacking: .q8_0, rows: 16, count: 64, source: p) != nil)
            #expect(InterleavedMatrix(repacking: .q8_0, rows: 12, count: 64, source: p) == nil, "rows not a multiple of 8")
            #expect(InterleavedMatrix(repacking: .q8_0, rows: 0, count: 64, source: p) == nil, "no rows")
            #expect(InterleavedMatrix(repacking: .q8_0, rows: 8, count: 48, source: p) == nil, "count not a multiple of 32")
            #expect(InterleavedMatrix(repacking: .q5_1, rows: 8, count: 32, source: p) == nil, "Q5_1 has no interleaved kernel")
            #expect(InterleavedMatrix(repacking: .q5_K, rows: 8, count: 256, source: p) == nil, "Q5_K has no interleaved kernel")
            #expect(InterleavedMatrix(repacking: .q4_K, rows: 8, count: 64, source: p) == nil, "count not a multiple of 256 for Q4_K")
        }
    }
}
