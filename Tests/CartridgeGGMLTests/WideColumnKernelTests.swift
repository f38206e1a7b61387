import Testing
@testable import CartridgeGGML

/// The multi-column wide kernels (one weight row × up to four activations per pass, more in
/// groups) against the one-column kernel: the integer sums are the same, so each column may
/// differ only by fp32 rounding of the accumulation order.
@Suite("multi-column 16-bit activation dot kernels")
struct WideColumnKernelTests {
    @Test(
        "every column equals the one-column dot, 1 to 9 columns, every quantized type",
        arguments: WideDotKernelTests.quantizedTypes, [1, 2, 3, 4, 5, 8, 9])
    func columnsMatchOneColumnDot(type: GGMLType, columns: Int) {
        let widths = type.layout!.blockSize == 256 ? [256, 1536] : [32, 96, 576, 1536]
        var random = TestData.Random(seed: 7_000 + UInt64(type.rawValue) * 31 + UInt64(columns))
        var nonZero = 0
        for count in widths {
            let activations = (0..<columns).map { _ in WideDotKernelTests.quantized(TestData.activation(count: count, random: &random)) }
            defer { for a in activations { a.deallocate() } }
            for r in 0..<6 {
                let row = TestData.randomRow(type, count: count, random: &random, zeroScaleBlock: r == 1 ? 0 : nil)
                // Outputs strided like a [columns, rows] matrix, with guard values between them.
                let stride = 3
                var out = [Float](repeating: -7777, count: columns * stride)
                row.withUnsafeBytes { raw in
                    activations.withUnsafeBufferPointer { a in
                        out.withUnsafeMutableBufferPointer { o in
                            GGMLKernels.dot(type, row: raw.baseAddress!, wideActivations: a.baseAddress!, columns: columns, count: count, into: o.baseAddress!, stride: stride)
                        }
                    }
                }
                for c in 0..<columns {
                    let one = WideDotKernelTests.dot(type, row, activations[c], count: count, path: .dispatched)
                    let tolerance = 2e-6 * max(1, abs(one)) + 1e-6 * magnitude(type, row, activations[c], count: count)
                    #expect(abs(out[c * stride] - one) <= tolerance, "\(type) n=\(count) column \(c)/\(columns) row \(r): \(out[c * stride]) vs \(one)")
                    for g in 1..<stride { #expect(out[c * stride + g] == -7777, "\(type): wrote outside column \(c)'s slot") }
                }
                nonZero += out.count { $0 != 0 && $0 != -7777 }
            }
        }
    }

    /// Σ|wᵢ·x̂ᵢ| (the scale of the fp32 rounding error).
    func magnitude(_ type: GGMLType, _ row: [UInt8], _ a: WideQuantizedActivation, count: Int) -> Float {
        let w = TestData.dequantized(type, row, count: count)
        var sum: Float = 0
        for i in 0..<count { sum += abs(w[i] * a.value(at: i)) }
        return sum
    }
}
