/// The fixed 144-byte trailer that ends the file: the content digest and the optional publisher
/// signature (see docs/IMAGE.md, "Trailer").
struct ImageTrailer: Hashable, Sendable {
    static let magic: [UInt8] = Array("CARTSEAL".utf8)
    static let length = 144
    static let schemeNone: UInt32 = 0
    static let schemeEd25519: UInt32 = 1
    /// What the Ed25519 signature covers: this context string, then the 32 raw digest bytes.
    static let signatureContext: [UInt8] = Array("cartridge image digest v1\n".utf8)

    var digest: [UInt8]
    var signature: ImageSignature?

    static func signedMessage(digest: [UInt8]) -> [UInt8] { signatureContext + digest }

    func encoded() -> [UInt8] {
        var out = LittleEndianAppender()
        out.raw(Self.magic)
        out.raw(digest)
        if let signature {
            out.u32(Self.schemeEd25519)
            out.u32(0)
            out.raw(signature.publicKey)
            out.raw(signature.signature)
        } else {
            out.u32(Self.schemeNone)
            out.zeros(4 + 32 + 64)
        }
        return out.bytes
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageTrailer {
        let reader = LittleEndianBytes(bytes)
        guard reader.count == length else {
            throw ImageError(.truncated, "trailer is \(reader.count) bytes, expected \(length)")
        }
        guard Array(bytes[0..<8]) == magic else {
            throw ImageError(.malformedHeader, "trailer magic is \(hexString(bytes[0..<8])), expected \(hexString(magic)) (\"CARTSEAL\")")
        }
        let digest = Array(bytes[8..<40])
        let scheme = reader.u32(at: 40)!
        guard reader.u32(at: 44)! == 0 else {
            throw ImageError(.signatureInvalid, "reserved trailer bytes 44..<48 are not zero")
        }
        switch scheme {
        case schemeNone:
            guard reader.isZero(offset: 48, length: 96) else {
                throw ImageError(.signatureInvalid, "image is marked unsigned but its public-key/signature bytes are not zero")
            }
            return ImageTrailer(digest: digest, signature: nil)
        case schemeEd25519:
            return ImageTrailer(
                digest: digest, signature: ImageSignature(publicKey: Array(bytes[48..<80]), signature: Array(bytes[80..<144])))
        default:
            throw ImageError(.signatureInvalid, "unknown signature scheme \(scheme) (known: 0 none, 1 Ed25519)")
        }
    }
}

/// An Ed25519 publisher signature as stored in the trailer.
public struct ImageSignature: Hashable, Sendable {
    /// The 32-byte Ed25519 public key of the signer.
    public var publicKey: [UInt8]
    /// The 64-byte Ed25519 signature over `"cartridge image digest v1\n" || digest`.
    public var signature: [UInt8]

    public var publicKeyHex: String { hexString(publicKey) }
}
