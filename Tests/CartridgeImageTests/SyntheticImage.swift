@testable import CartridgeImage

/// A small image with every kind of section: an fp32 matrix, an fp32 vector, a matrix
/// quantized to Q8_0 at burn time, a tokenizer blob, a manifest with hyperparameters.
enum SyntheticImage {
    static let matrix: [Float] = (0..<(8 * 16)).map { Float($0 % 13) * 0.25 - 1.5 }
    static let vector: [Float] = (0..<16).map { Float($0) / 16 }
    static let quantized: [Float] = (0..<(4 * 32)).map { Float(($0 * 37) % 101) / 50 - 1 }
    static let tokenizer: [UInt8] = Array("synthetic tokenizer blob\n".utf8) + (0..<200).map { UInt8($0) }

    static func manifest() -> ImageManifest {
        ImageManifest(
            name: "synthetic", family: "test", architecture: "none", hyperparameters: ["dim": 16, "layers": 1],
            tokenizerKind: "test-blob", contextLength: 64, vocabularySize: 8, license: "CC0-1.0", publisher: "cartridge tests",
            createdBy: "CartridgeImageTests", extra: ["description": "a synthetic image"])
    }

    /// Calls `body` with a burner over the synthetic tensors (the buffers live for the call).
    static func withBurner<R>(signingKey: ImageSigningKey? = nil, _ body: (ImageBurner) throws -> R) rethrows -> R {
        try matrix.withUnsafeBufferPointer { m in
            try vector.withUnsafeBufferPointer { v in
                try quantized.withUnsafeBufferPointer { q in
                    let tensors = [
                        ImageTensorInput.float32("embedding", shape: [8, 16], m),
                        ImageTensorInput.float32("norm", shape: [16], v),
                        ImageTensorInput(name: "projection", shape: [4, 32], source: .float32(q), storedAs: .q8_0(groupSize: 16)),
                    ]
                    return try body(ImageBurner(manifest: manifest(), tokenizer: tokenizer, tensors: tensors, signingKey: signingKey))
                }
            }
        }
    }

    static func bytes(signingKey: ImageSigningKey? = nil) throws -> [UInt8] {
        try withBurner(signingKey: signingKey) { try $0.imageBytes() }
    }

    /// Recomputes the content digest after a deliberate edit, so that the edit reaches the
    /// structural checks instead of stopping at the digest. No-op when the header's trailer
    /// offset does not point inside the buffer.
    static func reseal(_ bytes: inout [UInt8]) {
        guard bytes.count >= 104 else { return }
        let trailerOffset = bytes.withUnsafeBytes { LittleEndianBytes($0).u64(at: 96)! }
        guard trailerOffset <= UInt64(bytes.count), bytes.count - Int(trailerOffset) >= 40 else { return }
        let end = Int(trailerOffset)
        let digest = bytes.withUnsafeBytes { ImageCrypto.sha256(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        bytes.replaceSubrange((end + 8)..<(end + 40), with: digest)
    }

    /// Verifies in-memory bytes; returns the error (nil when accepted).
    static func refusal(_ bytes: [UInt8], trustedKeys: TrustedKeys? = nil) -> ImageError? {
        bytes.withUnsafeBytes { raw -> ImageError? in
            do throws(ImageError) {
                _ = try ImageVerifier.verify(raw, trustedKeys: trustedKeys)
                return nil
            } catch {
                return error
            }
        }
    }

    static func layout(_ bytes: [UInt8]) throws -> ImageHeader {
        try bytes.withUnsafeBytes { try ImageHeader.parse($0) }
    }
}
