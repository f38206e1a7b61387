/// The bearer token clients must send (`Authorization: Bearer KEY`) when `--api-key-file` is
/// given. Compared in constant time: the time taken does not depend on where the first
/// differing byte is.
struct APIKey: Sendable {
    private let key: [UInt8]

    /// `text`: the key file's contents; surrounding whitespace (a trailing newline) is dropped.
    init?(fileContents text: String) {
        let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        guard !trimmed.isEmpty else { return nil }
        key = Array(trimmed.utf8)
    }

    /// Whether an `Authorization` header value carries this key.
    func accepts(authorization header: String?) -> Bool {
        guard let header else { return false }
        let bytes = Array(header.utf8)
        let prefix = Array("Bearer ".utf8)
        guard bytes.count >= prefix.count, bytes[..<prefix.count].elementsEqual(prefix) else { return false }
        return APIKey.constantTimeEqual(Array(bytes[prefix.count...]), key)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
