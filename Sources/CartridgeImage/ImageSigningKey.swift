import Crypto
import Foundation

/// A publisher's Ed25519 private key for signing images. File format (one line):
/// `ed25519-private <64 hex digits of the 32-byte seed> <name>`. Keep it off the device.
public struct ImageSigningKey: Sendable {
    public let name: String
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init(generatingWithName name: String) {
        self.name = name
        key = Curve25519.Signing.PrivateKey()
    }

    public init(seed: [UInt8], name: String) throws(ImageError) {
        guard seed.count == 32 else { throw ImageError(.malformedSigningKey, "an Ed25519 seed is 32 bytes, not \(seed.count)") }
        do { key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw ImageError(.malformedSigningKey, "not an Ed25519 seed", cause: error)
        }
        self.name = name
    }

    public init(parsing text: String) throws(ImageError) {
        let fields = text.trimmingSpaces().split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard fields.count >= 3, fields[0] == "ed25519-private", let seed = bytes(fromHex: fields[1]) else {
            throw ImageError(.malformedSigningKey, "expected 'ed25519-private <64 hex digits> <name>'")
        }
        try self.init(seed: seed, name: fields[2...].joined(separator: " "))
    }

    public init(contentsOf path: String) throws(ImageError) {
        let data = try readSmallFile(path, limit: 4096, what: "signing-key file")
        do { try self.init(parsing: String(decoding: data, as: UTF8.self)) } catch {
            throw ImageError(error.code, "\(path): \(error.message)")
        }
    }

    /// The private-key file text (keep secret).
    public var fileText: String { "ed25519-private \(hexString(key.rawRepresentation)) \(name)\n" }

    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }

    /// The matching trusted-keys line for devices.
    public var trustedKey: TrustedKeys.Key { TrustedKeys.Key(name: name, publicKey: publicKey) }

    /// Signs `"cartridge image digest v1\n" || digest`. BoringSSL's Ed25519 (swift-crypto on
    /// Linux) is deterministic (RFC 8032), so burning stays reproducible.
    func sign(digest: [UInt8]) throws(ImageError) -> ImageSignature {
        do {
            let signature = try key.signature(for: ImageTrailer.signedMessage(digest: digest))
            return ImageSignature(publicKey: publicKey, signature: Array(signature))
        } catch {
            throw ImageError(.writeFailed, "Ed25519 signing failed", cause: error)
        }
    }
}

enum ImageCrypto {
    /// SHA-256 over `bytes`, fed in 4 MiB steps straight from the mapping (no copy).
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        var offset = 0
        let step = 4 << 20
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            offset = end
        }
        return Array(hasher.finalize())
    }

    static func isValid(_ signature: ImageSignature, digest: [UInt8]) -> Bool {
        guard signature.publicKey.count == 32, signature.signature.count == 64,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: signature.publicKey)
        else { return false }
        return key.isValidSignature(signature.signature, for: ImageTrailer.signedMessage(digest: digest))
    }
}

/// An incremental SHA-256 for the writer.
struct ContentHasher {
    private var hasher = SHA256()
    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    func finalize() -> [UInt8] { Array(hasher.finalize()) }
}
