#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import CartridgeGGML

/// Fixture files and deterministic random tensors for the CartridgeGGML tests.
enum TestData {
    static let fixtureDirectory: String = {
        // Tests/CartridgeGGMLTests/TestData.swift -> Tests/CartridgeGGMLTests/Fixtures
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast()
        return components.joined(separator: "/") + "/Fixtures"
    }()

    /// The bytes of Fixtures/`name` (written by scripts/reference/ggml-dequant-fixtures.py), or nil.
    static func fixture(_ name: String) -> [UInt8]? {
        guard let file = fopen(fixtureDirectory + "/" + name, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let read = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if read == 0 { break }
            bytes.append(contentsOf: chunk[0..<read])
        }
        return bytes
    }

    /// SplitMix64: a small deterministic generator, so failures reproduce.
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

        /// Uniform in [0, 1).
        mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

        /// Roughly normal (sum of uniforms), mean 0, deviation about `deviation`.
        mutating func normal(deviation: Double) -> Float {
            var sum = 0.0
            for _ in 0..<4 { sum += unit() }
            return Float((sum - 2) * 1.7320508 * deviation)
        }

        /// fp16 bits of ±2^e with e uniform in [low, high] (a sane scale: never NaN or inf).
        mutating func halfScale(log2Low: Double = -10, log2High: Double = -3) -> UInt16 {
            let magnitude = Float(exp2(log2Low + (log2High - log2Low) * unit()))
            return Float16(next() & 1 == 0 ? magnitude : -magnitude).bitPattern
        }
    }

    /// Byte offsets of the fp16 scale/min fields within one block of a quantized type.
    static func halfFields(_ type: GGMLType) -> [Int] {
        switch type {
        case .q8_0, .q4_0, .q5_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
    }

    /// A row of `count` elements of a quantized type: random bytes with sane fp16 scales (and,
    /// if `zeroScaleBlock` is set, that block's scales zeroed).
    static func randomRow(_ type: GGMLType, count: Int, random: inout Random, zeroScaleBlock: Int? = nil) -> [UInt8] {
        let layout = type.layout!
        var bytes = (0..<type.rowByteCount(elements: count)!).map { _ in random.byte() }
        for block in 0..<(count / layout.blockSize) {
            for offset in halfFields(type) {
                let bits = block == zeroScaleBlock ? 0 : random.halfScale()
                bytes[block * layout.bytesPerBlock + offset] = UInt8(bits & 0xFF)
                bytes[block * layout.bytesPerBlock + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    /// The row dequantized by the (fixture-checked) reference dequantizer.
    static func dequantized(_ type: GGMLType, _ row: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        row.withUnsafeBytes { r in
            out.withUnsafeMutableBufferPointer { GGMLKernels.dequantize(type, row: r.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        return out
    }

    /// An activation-like vector: normal values with a few larger outliers and an all-zero block.
    static func activation(count: Int, random: inout Random) -> [Float] {
        var x = (0..<count).map { _ in random.normal(deviation: 1) }
        for i in stride(from: 7, to: count, by: 97) { x[i] *= 12 }
        if count >= 64 { for i in 32..<64 { x[i] = 0 } }
        return x
    }
}
