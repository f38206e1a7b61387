import CartridgeSystem

/// Entry point for reading cartridge images (format: docs/IMAGE.md).
public enum CartridgeImage {
    /// Maps the image at `path` read-only and verifies it before anything may serve it: header and
    /// section bounds, SHA-256 content digest, the Ed25519 publisher signature when present, and —
    /// when `trustedKeys` is given — that the image is signed by one of them; then the manifest,
    /// the tensor table and their agreement. Hashing time is in `VerifiedImage.hashingDuration`.
    public static func open(path: String, trustedKeys: TrustedKeys? = nil) throws(ImageError) -> VerifiedImage {
        let mapping = try ImageMapping(path: path)
        mapping.advise(sequential: true)
        defer { mapping.advise(sequential: false) }
        let result: ImageVerifier.Result
        do { result = try ImageVerifier.verify(mapping.bytes, trustedKeys: trustedKeys) } catch {
            throw ImageError(error.code, "image '\(path)' refused: \(error.message)", fileID: error.location.fileID, line: error.location.line)
        }
        return VerifiedImage(mapping: mapping, result: result)
    }

    /// Verifies an image held in memory (tests, tools). Same checks as `open`.
    public static func verify(bytes: UnsafeRawBufferPointer, trustedKeys: TrustedKeys? = nil) throws(ImageError) -> ImageManifest {
        try ImageVerifier.verify(bytes, trustedKeys: trustedKeys).manifest
    }
}
