import CartridgeTestSupport
import Foundation
import Testing

@testable import CartridgeImage

@Suite struct ImageRefusalTests {
    /// One position per region of the file: header fields, manifest, tensor table, tokenizer,
    /// tensor data (fp32 and Q8_0 quants and scales), padding between sections and tensors,
    /// the padding before the trailer, the trailer magic and the digest.
    static func sampledPositions(_ bytes: [UInt8]) throws -> [(String, Int)] {
        let header = try SyntheticImage.layout(bytes)
        let q8 = header.data.upperBound - 8 * 4 - 1
        return [
            ("magic", 3), ("format version", 9), ("header length", 12), ("section alignment", 17), ("tensor alignment", 20),
            ("file length", 24), ("manifest offset", 33), ("manifest length", 40), ("tensor table offset", 49),
            ("tokenizer length", 72), ("data offset", 81), ("trailer offset", 96), ("reserved header", 120),
            ("padding after header", 200), ("manifest", header.manifest.lowerBound + 5), ("manifest end", header.manifest.upperBound - 1),
            ("padding after manifest", header.manifest.upperBound + 10), ("tensor table", header.tensorTable.lowerBound + 1),
            ("tensor entry shape", header.tensorTable.lowerBound + 16 + 16), ("tensor names", header.tensorTable.upperBound - 2),
            ("tokenizer", header.tokenizer.lowerBound + 3), ("padding after tokenizer", header.tokenizer.upperBound + 1),
            ("fp32 tensor", header.data.lowerBound + 100), ("padding between tensors", header.data.lowerBound + 8 * 16 * 4 + 16 * 4 + 2),
            ("q8_0 quants", q8 - 70), ("q8_0 scales", q8), ("last data byte", header.data.upperBound - 1),
            ("trailer magic", header.trailerOffset + 2), ("digest", header.trailerOffset + 8),
            ("digest end", header.trailerOffset + 39), ("signature scheme", header.trailerOffset + 40),
            ("public key (unsigned)", header.trailerOffset + 60), ("signature (unsigned)", header.fileLength - 1),
        ]
    }

    @Test func aFlippedByteAnywhereIsRefused() throws {
        let original = try SyntheticImage.bytes()
        #expect(SyntheticImage.refusal(original) == nil)
        let trailerOffset = try SyntheticImage.layout(original).trailerOffset
        for (region, position) in try Self.sampledPositions(original) {
            for mask: UInt8 in [0x01, 0x80] {
                var bytes = original
                bytes[position] ^= mask
                let error = try #require(SyntheticImage.refusal(bytes), "flip at \(position) (\(region)) was accepted")
                #expect(!error.message.isEmpty)
                // Content regions are caught by the digest, with a message that says so.
                if position >= 128 && position < trailerOffset {
                    #expect(error.code == .digestMismatch, "\(region): \(error)")
                    #expect(error.message.contains("digest mismatch"))
                }
            }
        }
    }

    @Test func aFlippedByteInASignedImageIsRefused() throws {
        let key = try ImageSigningKey(seed: Array(repeating: 1, count: 32), name: "publisher")
        let original = try SyntheticImage.bytes(signingKey: key)
        let header = try SyntheticImage.layout(original)
        #expect(SyntheticImage.refusal(original) == nil)
        for position in [header.trailerOffset + 50, header.trailerOffset + 100, header.fileLength - 1, header.trailerOffset + 44] {
            var bytes = original
            bytes[position] ^= 0x04
            let error = try #require(SyntheticImage.refusal(bytes))
            #expect(error.code == .signatureInvalid, "\(error)")
        }
    }

    @Test func everyTruncationIsRefused() throws {
        let original = try SyntheticImage.bytes()
        let lengths = [0, 1, 7, 8, 11, 12, 64, 127, 128, 4096, original.count / 2, original.count - 144, original.count - 1]
        for length in lengths {
            let error = try #require(SyntheticImage.refusal(Array(original[0..<length])), "truncated to \(length) was accepted")
            #expect(error.code == .truncated, "\(length): \(error)")
            #expect(error.message.contains("too short") || error.message.contains("truncated"))
        }
    }

    @Test func aTruncatedFileOnDiskIsRefused() throws {
        let directory = try TemporaryDirectory("image")
        let original = try SyntheticImage.bytes()
        let path = try directory.write(Array(original.dropLast(1000)), to: "short.cart")
        let error = #expect(throws: ImageError.self) { try CartridgeImage.open(path: path) }
        #expect(error?.code == .truncated)
        #expect(error?.message.contains(path) == true)
        let missing = #expect(throws: ImageError.self) { try CartridgeImage.open(path: directory.file("absent.cart")) }
        #expect(missing?.code == .fileUnreadable)
    }

    @Test(arguments: [0 as UInt32, 2, 0xFFFF_FFFF])
    func aWrongFormatVersionIsRefused(version: UInt32) throws {
        var bytes = try SyntheticImage.bytes()
        withUnsafeBytes(of: version.littleEndian) { bytes.replaceSubrange(8..<12, with: $0) }
        SyntheticImage.reseal(&bytes)
        let error = try #require(SyntheticImage.refusal(bytes))
        #expect(error.code == .unsupportedVersion)
        #expect(error.message.contains("version \(version)"))
    }

    @Test func notAnImageIsRefusedByItsMagic() throws {
        var bytes = try SyntheticImage.bytes()
        bytes.replaceSubrange(0..<8, with: Array("GGUF\u{3}\0\0\0".utf8))
        let error = try #require(SyntheticImage.refusal(bytes))
        #expect(error.code == .badMagic)
        #expect(error.message.contains("not a cartridge image"))
    }

    @Test func signaturesAreCheckedAgainstTrustedKeys() throws {
        let publisher = try ImageSigningKey(seed: Array(repeating: 3, count: 32), name: "publisher")
        let stranger = try ImageSigningKey(seed: Array(repeating: 4, count: 32), name: "stranger")
        let trusted = TrustedKeys(keys: [publisher.trustedKey])

        let signed = try SyntheticImage.bytes(signingKey: publisher)
        let accepted = try signed.withUnsafeBytes { try ImageVerifier.verify($0, trustedKeys: trusted) }
        #expect(accepted.signer?.name == "publisher")
        #expect(accepted.signature?.publicKey == publisher.publicKey)

        let byStranger = try SyntheticImage.bytes(signingKey: stranger)
        let untrusted = try #require(SyntheticImage.refusal(byStranger, trustedKeys: trusted))
        #expect(untrusted.code == .untrustedSigner)
        #expect(untrusted.message.contains(hexString(stranger.publicKey)))
        #expect(untrusted.message.contains("not in the trusted keys"))
        // Without trusted keys configured the stranger's (valid) signature is fine.
        #expect(SyntheticImage.refusal(byStranger) == nil)

        let unsigned = try #require(SyntheticImage.refusal(try SyntheticImage.bytes(), trustedKeys: trusted))
        #expect(unsigned.code == .unsignedImage)

        // A signature lifted from another image does not verify.
        var transplanted = try SyntheticImage.bytes(signingKey: publisher)
        let header = try SyntheticImage.layout(transplanted)
        transplanted[header.manifest.lowerBound] ^= 0x20  // "name" -> "Name"... then reseal: new digest, old signature
        SyntheticImage.reseal(&transplanted)
        let forged = try #require(SyntheticImage.refusal(transplanted, trustedKeys: trusted))
        #expect(forged.code == .signatureInvalid || forged.code == .malformedManifest)
    }

    @Test func aManifestThatDisagreesWithTheTensorsIsRefused() throws {
        func craft(_ edit: (inout ImageManifest) -> Void) throws -> ImageError? {
            try SyntheticImage.withBurner { burner in
                var manifest = try burner.resolvedManifest()
                edit(&manifest)
                let writer = ImageWriter(manifest: manifest, tokenizer: burner.tokenizer, tensors: burner.tensors)
                var sink = MemoryImageSink()
                _ = try writer.write(to: &sink)
                return SyntheticImage.refusal(sink.bytes)
            }
        }
        #expect(try craft { _ in } == nil)
        let count = try #require(try craft { $0.parameterCount += 1 })
        #expect(count.code == .manifestMismatch)
        #expect(count.message.contains("parameters"))
        let quantization = try #require(try craft { $0.quantization = "fp32" })
        #expect(quantization.code == .manifestMismatch)
        #expect(quantization.message.contains("quantization 'fp32'"))
        let tokenizer = try #require(try craft { $0.tokenizerKind = "none" })
        #expect(tokenizer.code == .manifestMismatch)
    }

    @Test func aTensorTableThatDisagreesWithTheDataIsRefused() throws {
        let original = try SyntheticImage.bytes()
        let header = try SyntheticImage.layout(original)
        let entry = header.tensorTable.lowerBound + 16
        let cases: [(String, Int, UInt64)] = [
            ("length", entry + 56, 1), ("needs", entry + 16, 9), ("offset", entry + 48, UInt64(header.data.lowerBound + 4)),
            ("outside", entry + 48, UInt64.max), ("dimension", entry + 16, UInt64.max), ("data", entry + 48, UInt64(header.trailerOffset)),
        ]
        for (fragment, position, value) in cases {
            var bytes = original
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(position..<(position + 8), with: $0) }
            SyntheticImage.reseal(&bytes)
            let error = try #require(SyntheticImage.refusal(bytes))
            #expect(error.code == .malformedTensorTable, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func aNonCanonicalManifestIsRefused() throws {
        let original = try SyntheticImage.bytes()
        let header = try SyntheticImage.layout(original)
        let manifest = String(decoding: original[header.manifest], as: UTF8.self)
        let edits: [(String, String)] = [
            ("architecture=none\n", "architecture=none\r\n"),  // control character
            ("context_length=64", "context_length=064"),  // non-canonical integer
            ("created_by=", "created_bz="),  // out of order
            ("family=test\n", "family=test\nfamily=test\n"),  // repeated (changes length: header fixed below)
        ]
        for (from, to) in edits {
            let edited = Array(manifest.replacingOccurrences(of: from, with: to).utf8)
            var bytes = original
            guard edited.count == header.manifest.count else {
                let error = edited.withUnsafeBytes { raw in
                    #expect(throws: ImageError.self) { try ImageManifest.parse(raw) }
                }
                #expect(error?.code == .malformedManifest)
                continue
            }
            bytes.replaceSubrange(header.manifest, with: edited)
            SyntheticImage.reseal(&bytes)
            let error = try #require(SyntheticImage.refusal(bytes), "\(to) accepted")
            #expect(error.code == .malformedManifest, "\(error)")
        }
    }
}

