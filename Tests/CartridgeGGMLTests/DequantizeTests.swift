import Testing
@testable import CartridgeGGML

@Suite("Dequantization is bit-exact with ggml's reference")
struct DequantizeTests {
    @Test("every supported type matches the gguf-py fixtures bit for bit", arguments: GGMLType.supported)
    func matchesFixture(type: GGMLType) throws {
        let input = try #require(TestData.fixture("dequant-\(type.name).bin"), "missing fixture; run scripts/reference/ggml-dequant-fixtures.py")
        let expectedBytes = try #require(TestData.fixture("dequant-\(type.name).f32"))
        let layout = try #require(type.layout)
        let count = input.count / layout.bytesPerBlock * layout.blockSize
        #expect(type.rowByteCount(elements: count) == input.count)
        #expect(expectedBytes.count == count * 4)
        let expected = expectedBytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
        let actual = TestData.dequantized(type, input, count: count).map(\.bitPattern)
        var mismatches = 0
        for i in 0..<count where actual[i] != expected[i] {
            if mismatches < 5 {
                Issue.record("\(type) element \(i): got \(Float(bitPattern: actual[i])) (0x\(String(actual[i], radix: 16))), expected \(Float(bitPattern: expected[i])) (0x\(String(expected[i], radix: 16)))")
            }
            mismatches += 1
        }
        #expect(mismatches == 0, "\(mismatches) of \(count) elements differ")
        // The fixtures are not degenerate: they hold nonzero and negative values.
        #expect(actual.contains { Float(bitPattern: $0) < 0 } && actual.contains { Float(bitPattern: $0) > 0 })
    }

    @Test("dequantizing part of a row gives the same prefix")
    func prefix() throws {
        let input = try #require(TestData.fixture("dequant-Q4_K.bin"))
        let full = TestData.dequantized(.q4_K, input, count: 4096)
        let part = TestData.dequantized(.q4_K, input, count: 512)
        #expect(part.map(\.bitPattern) == full[0..<512].map(\.bitPattern))
    }

    @Test("fp16 to fp32 is exact for all 65,536 bit patterns")
    func halfConversion() {
        for bits in 0...UInt16.max {
            let converted = GGMLKernels.halfToFloat(bits)
            let reference = GGMLKernels.halfToFloatBits(bits)
            if reference.isNaN {
                // Hardware conversion quiets signalling NaNs; sign and NaN-ness are kept.
                #expect(converted.isNaN && converted.sign == reference.sign, "0x\(String(bits, radix: 16))")
            } else {
                #expect(converted.bitPattern == reference.bitPattern, "0x\(String(bits, radix: 16)): \(converted) vs \(reference)")
            }
        }
        #if arch(x86_64)
        // The AVX2 kernels' lone-scale conversion (placement + multiply by 2^112) is exact too.
        for bits in 0...UInt16.max {
            let viaMultiply = GGMLKernels.halfByMultiply(bits)
            let reference = GGMLKernels.halfToFloatBits(bits)
            #expect(viaMultiply.bitPattern == reference.bitPattern || (viaMultiply.isNaN && reference.isNaN), "0x\(String(bits, radix: 16))")
        }
        #endif
        // Anchors for the bit-manipulation reference itself.
        #expect(GGMLKernels.halfToFloatBits(0x3C00) == 1)
        #expect(GGMLKernels.halfToFloatBits(0xC000) == -2)
        #expect(GGMLKernels.halfToFloatBits(0x0001) == 0x1p-24)
        #expect(GGMLKernels.halfToFloatBits(0x7BFF) == 65504)
        #expect(GGMLKernels.halfToFloatBits(0x8000).bitPattern == 0x8000_0000)
        #expect(GGMLKernels.halfToFloatBits(0x7C00) == .infinity)
    }

    @Test("the packed K-quant scale unpacking agrees with ggml's get_scale_min_k4")
    func scaleUnpacking() {
        var random = TestData.Random(seed: 11)
        for _ in 0..<500 {
            let bytes = (0..<12).map { _ in random.byte() }
            bytes.withUnsafeBytes { raw in
                let (scales, mins) = GGMLKernels.unpackScalesMinsK4(raw.baseAddress!)
                for j in 0..<8 {
                    let (scale, minimum) = GGMLKernels.scaleMinK4(raw.baseAddress!, j)
                    #expect(scales[j] == scale && mins[j] == minimum, "\(bytes) j=\(j)")
                }
            }
        }
    }

    @Test("supported types are the ones with kernels")
    func supportedSet() {
        let quantized: Set<GGMLType> = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]
        for type in GGMLType.supported {
            #expect(GGMLKernels.usesQuantizedActivation(type) == quantized.contains(type), "\(type)")
        }
        #expect(!GGMLKernels.usesQuantizedActivation(.q8_1))
        #expect(!GGMLKernels.usesQuantizedActivation(.q2_K))
        #expect(!GGMLKernels.usesQuantizedActivation(GGMLType(rawValue: 999)))
    }
}
