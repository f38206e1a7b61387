import Testing

@testable import CartridgeImage

/// Seeded random mutations of a small image; the parser must refuse or accept, never crash or
/// read out of bounds. Half the mutants are resealed (digest recomputed) so that they reach the
/// structural checks behind the digest.
@Suite struct ImageFuzzTests {
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    @Test func mutatedImagesNeverCrashTheParser() throws {
        let original = try SyntheticImage.bytes()
        let header = try SyntheticImage.layout(original)
        // Where structure lives: the header, the manifest, the tensor table, the trailer.
        let structural = [0..<ImageHeader.length, header.manifest, header.tensorTable, header.trailerOffset..<header.fileLength]
        var random = SplitMix64(state: 0xCA27_1D6E)
        var refused = 0, accepted = 0
        var codes: Set<String> = []
        for iteration in 0..<3000 {
            var bytes = original
            let region = structural[random.below(structural.count)]
            for _ in 0..<(1 + random.below(4)) {
                let position = region.lowerBound + random.below(region.count)
                switch random.below(4) {
                case 0: bytes[position] ^= UInt8(1 << random.below(8))
                case 1: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 2: bytes[position] = [0x00, 0xFF, 0x7F, 0x80][random.below(4)]
                default:
                    // An extreme 64-bit value at an 8-aligned position (offsets, lengths, dims).
                    let aligned = min(bytes.count - 8, position & ~7)
                    let value: UInt64 = [0, .max, UInt64(Int.max), 1 << 63, UInt64(original.count), 4096][random.below(6)]
                    withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(aligned..<(aligned + 8), with: $0) }
                }
            }
            if iteration % 2 == 0 { SyntheticImage.reseal(&bytes) }
            if iteration % 7 == 0 { bytes.removeLast(random.below(bytes.count)) }
            if let error = SyntheticImage.refusal(bytes) {
                refused += 1
                codes.insert(error.code.description)
                #expect(!error.message.isEmpty)
            } else {
                accepted += 1
            }
        }
        // The mutants reached past the digest into many different checks.
        #expect(refused > 2500)
        #expect(codes.isSuperset(of: ["digestMismatch", "malformedHeader", "malformedTensorTable", "malformedManifest", "truncated"]), "\(codes)")
        print("fuzz: \(refused) refused, \(accepted) accepted (harmless edits), codes: \(codes.sorted())")
    }
}
