/// The SHA-256 content digest of an image: over bytes `0 ..< trailer_offset` (header, every
/// section and all padding; everything but the trailer). Identifies the model a host talks to.
public struct ImageDigest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 raw bytes.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Lower-case hex, 64 characters.
    public var hex: String { hexString(bytes) }

    /// A short form for displays and USB serial strings: the first 16 hex digits.
    public var shortHex: String { String(hex.prefix(16)) }

    public var description: String { "sha256:\(hex)" }
}
