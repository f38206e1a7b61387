/// How the gateway names models: the id `/v1/models` lists and the names a request may use.
///
/// A cartridge's model name comes from its image (GGUF `general.name`, such as
/// "SmolLM2 135M Instruct"), and may hold spaces and other characters that URLs, shells and
/// configuration files handle badly. The id is the name's slug: every run of characters outside
/// `A-Z a-z 0-9 . _` (dashes included) becomes one `-`, and a leading or trailing one is dropped
/// ("SmolLM2 135M Instruct" and "SmolLM2 - 135M Instruct" give "SmolLM2-135M-Instruct"); a name
/// such as "all-MiniLM-L6-v2" is its own id. Requests may name a
/// model by its exact name or by its id, and ids compare ignoring ASCII case
/// ("smollm2-135m-instruct" works too). When two different names served at once have the same
/// slug, each is listed under its exact name instead, and the slug alone is refused as ambiguous.
struct ModelID: Sendable {
    /// The slug of `name`; empty when the name has no ASCII letter or digit.
    static func slug(_ name: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        var pendingDash = false
        for byte in name.utf8 {
            if isKept(byte) {
                if pendingDash, !bytes.isEmpty { bytes.append(UInt8(ascii: "-")) }
                pendingDash = false
                bytes.append(byte)
            } else {
                pendingDash = true
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What ids compare by: the slug in ASCII lower case.
    static func key(_ name: String) -> String {
        String(decoding: slug(name).utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The id of each of `names` (the model names served at once): its slug, or the exact name when
    /// the slug is empty or shared with another name.
    static func ids(for names: some Sequence<String>) -> [String: String] {
        var byKey: [String: Set<String>] = [:]
        for name in names { byKey[key(name), default: []].insert(name) }
        var ids: [String: String] = [:]
        for (key, group) in byKey {
            for name in group { ids[name] = key.isEmpty || group.count > 1 ? name : slug(name) }
        }
        return ids
    }

    /// What a requested model name means among the `names` served.
    enum Resolution: Equatable, Sendable {
        /// The model's exact name.
        case name(String)
        /// Nothing matches.
        case unknown
        /// The request matches several names only by their slug.
        case ambiguous([String])
    }

    /// Resolves `requested`: an exact name first, then the one name whose id matches ignoring case.
    static func resolve(_ requested: String, among names: some Sequence<String>) -> Resolution {
        var matches: Set<String> = []
        let wanted = key(requested)
        for name in names {
            if name == requested { return .name(name) }
            if !wanted.isEmpty, key(name) == wanted { matches.insert(name) }
        }
        switch matches.count {
        case 0: return .unknown
        case 1: return .name(matches.first!)
        default: return .ambiguous(matches.sorted())
        }
    }

    /// A URL path segment with `%XX` escapes decoded (`/v1/models/SmolLM2%20135M%20Instruct`);
    /// malformed escapes and invalid UTF-8 are kept as written.
    static func percentDecoded(_ segment: String) -> String {
        let bytes = Array(segment.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(validating: output, as: UTF8.self) ?? segment
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isKept(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "."), UInt8(ascii: "_"): true
        default: false
        }
    }
}
