public import CartridgeErrors
import CartridgeSystem

/// Why an image was refused, could not be read, or could not be burned.
public struct ImageError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case fileUnreadable, truncated, badMagic, unsupportedVersion, malformedHeader, malformedManifest
            case malformedTensorTable, manifestMismatch, digestMismatch, signatureInvalid, unsignedImage
            case untrustedSigner, malformedTrustedKeys, malformedSigningKey, invalidInput, writeFailed
            case malformedSource, tensorMissing
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file could not be opened, sized or mapped.
        public static let fileUnreadable = Code(.fileUnreadable)
        /// The file is shorter than its header says (or than a header).
        public static let truncated = Code(.truncated)
        /// The first 8 bytes are not the image magic: not a cartridge image.
        public static let badMagic = Code(.badMagic)
        /// A format version this reader does not understand.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A header field is out of range, misaligned or inconsistent.
        public static let malformedHeader = Code(.malformedHeader)
        /// The manifest section is not canonical `key=value` text or lacks a required key.
        public static let malformedManifest = Code(.malformedManifest)
        /// The tensor table is malformed: bounds, types, shapes, names, overlaps.
        public static let malformedTensorTable = Code(.malformedTensorTable)
        /// The manifest disagrees with the tensors (parameter count, quantization, shapes).
        public static let manifestMismatch = Code(.manifestMismatch)
        /// The SHA-256 of the content differs from the stored digest: corrupted or altered.
        public static let digestMismatch = Code(.digestMismatch)
        /// The publisher signature does not verify (or the signature block is malformed).
        public static let signatureInvalid = Code(.signatureInvalid)
        /// Trusted keys are configured but the image carries no signature.
        public static let unsignedImage = Code(.unsignedImage)
        /// The signature is valid but made by a key that is not in the trusted-keys file.
        public static let untrustedSigner = Code(.untrustedSigner)
        /// The trusted-keys file is malformed.
        public static let malformedTrustedKeys = Code(.malformedTrustedKeys)
        /// The signing-key file is malformed.
        public static let malformedSigningKey = Code(.malformedSigningKey)
        /// The burner was given inconsistent inputs (names, shapes, types, manifest).
        public static let invalidInput = Code(.invalidInput)
        /// Writing the image failed.
        public static let writeFailed = Code(.writeFailed)
        /// A source file for burning (checkpoint, tokenizer, safetensors) is malformed.
        public static let malformedSource = Code(.malformedSource)
        /// A tensor the model needs is not in the image.
        public static let tensorMissing = Code(.tensorMissing)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = SourceLocation(fileID: fileID, line: line)
    }
}
