import CartridgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// The publisher keys a device accepts (docs/IMAGE.md, "Trusted keys"). One key per line:
/// `ed25519 <64 hex digits> <name>`; `#` starts a comment line; blank lines are ignored.
public struct TrustedKeys: Hashable, Sendable {
    public struct Key: Hashable, Sendable {
        public var name: String
        /// The 32-byte Ed25519 public key.
        public var publicKey: [UInt8]

        public init(name: String, publicKey: [UInt8]) {
            self.name = name
            self.publicKey = publicKey
        }

        /// The line for a trusted-keys file.
        public var line: String { "ed25519 \(hexString(publicKey)) \(name)" }
    }

    public var keys: [Key]

    public init(keys: [Key]) { self.keys = keys }

    public init(parsing text: String) throws(ImageError) {
        var keys: [Key] = []
        // Split on the byte: "\r\n" is one Character, so splitting Characters would miss it.
        for (index, rawLine) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = String(decoding: rawLine, as: UTF8.self).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard fields.count == 3, fields[0] == "ed25519" else {
                throw ImageError(.malformedTrustedKeys, "trusted keys line \(index + 1): expected 'ed25519 <64 hex digits> <name>'")
            }
            guard let key = bytes(fromHex: fields[1]), key.count == 32 else {
                throw ImageError(.malformedTrustedKeys, "trusted keys line \(index + 1): the key must be 64 hex digits (32 bytes)")
            }
            let name = fields[2].trimmingSpaces()
            guard !name.isEmpty else { throw ImageError(.malformedTrustedKeys, "trusted keys line \(index + 1): the key has no name") }
            keys.append(Key(name: name, publicKey: key))
        }
        guard !keys.isEmpty else { throw ImageError(.malformedTrustedKeys, "the trusted-keys file lists no keys") }
        self.keys = keys
    }

    public init(contentsOf path: String) throws(ImageError) {
        let data = try readSmallFile(path, limit: 1 << 20, what: "trusted-keys file")
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ImageError(.malformedTrustedKeys, "trusted-keys file '\(path)' is not UTF-8")
        }
        do { try self.init(parsing: text) } catch {
            throw ImageError(error.code, "\(path): \(error.message)")
        }
    }

    public func key(matching publicKey: [UInt8]) -> Key? { keys.first { $0.publicKey == publicKey } }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }
    var result: [UInt8] = []
    result.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        result.append(high << 4 | low)
    }
    return result
}

/// Reads a whole small file (keys, tokenizer, vocabularies), refusing anything above `limit`:
/// `FileBytes.read` with the image module's error codes.
func readSmallFile(_ path: String, limit: Int, what: String) throws(ImageError) -> [UInt8] {
    do {
        return try FileBytes.read(path, limit: limit)
    } catch {
        if error.errno == EFBIG { throw ImageError(.invalidInput, "\(what) '\(path)' is larger than \(limit) bytes", cause: error) }
        throw ImageError(.fileUnreadable, "cannot read \(what) '\(path)'", cause: error)
    }
}
