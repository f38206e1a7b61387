extension TemplateValue {
    /// Parses JSON text (RFC 8259) into a value, keeping object keys in document order (as Python's
    /// `json.loads` does), so tool schemas and messages round-trip through `tojson` unchanged.
    /// Integers that fit in `Int` become `.integer`; other numbers become `.double`.
    public init(json: String) throws(TemplateError) {
        var parser = JSONTextParser(bytes: Array(json.utf8))
        self = try parser.parseDocument()
    }
}

/// A small recursive-descent JSON parser with a depth limit.
struct JSONTextParser {
    private let bytes: [UInt8]
    private var offset = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func fail(_ message: String) -> TemplateError {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return TemplateError(code: .invalidJSON, message: message, line: line, column: column)
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func parseDocument() throws(TemplateError) -> TemplateValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard offset == bytes.count else { throw fail("unexpected text after the JSON value") }
        return value
    }

    private mutating func expect(_ literal: String, _ value: TemplateValue) throws(TemplateError) -> TemplateValue {
        let expected = Array(literal.utf8)
        guard offset + expected.count <= bytes.count, Array(bytes[offset..<offset + expected.count]) == expected else {
            throw fail("invalid literal")
        }
        offset += expected.count
        return value
    }

    private mutating func parseValue(depth: Int) throws(TemplateError) -> TemplateValue {
        guard depth < TemplateLimits.maximumDataDepth else { throw fail("JSON nests deeper than \(TemplateLimits.maximumDataDepth) levels") }
        skipWhitespace()
        guard offset < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var dictionary = TemplateDictionary()
            skipWhitespace()
            if offset < bytes.count && bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .dictionary(dictionary)
            }
            while true {
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                offset += 1
                dictionary[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard offset < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                } else if bytes[offset] == UInt8(ascii: "}") {
                    offset += 1
                    return .dictionary(dictionary)
                } else {
                    throw fail("expected ',' or '}'")
                }
            }
        case UInt8(ascii: "["):
            offset += 1
            var items: [TemplateValue] = []
            skipWhitespace()
            if offset < bytes.count && bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(items)
            }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard offset < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                } else if bytes[offset] == UInt8(ascii: "]") {
                    offset += 1
                    return .array(items)
                } else {
                    throw fail("expected ',' or ']'")
                }
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .none)
        default:
            return try parseNumber()
        }
    }

    private mutating func parseNumber() throws(TemplateError) -> TemplateValue {
        let start = offset
        var isInteger = true
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        var digits = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                        || ((byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && !isInteger) {
                isInteger = false
            } else {
                break
            }
            offset += 1
        }
        guard digits > 0 else { throw fail("invalid value") }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if isInteger, let number = Int(text) { return .integer(number) }
        guard let number = Double(text) else { throw fail("invalid number '\(text)'") }
        return .double(number)
    }

    private mutating func hexQuad() throws(TemplateError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let nibble: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value * 16 + nibble
            offset += 1
        }
        return value
    }

    private mutating func parseString() throws(TemplateError) -> String {
        offset += 1  // opening quote
        var result = String.UnicodeScalarView()
        var runStart = offset
        func flush(_ parser: JSONTextParser, _ end: Int) {
            result.append(contentsOf: String(decoding: parser.bytes[runStart..<end], as: UTF8.self).unicodeScalars)
        }
        while true {
            guard offset < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                flush(self, offset)
                offset += 1
                return String(result)
            }
            if byte < 0x20 { throw fail("control character in string") }
            guard byte == UInt8(ascii: "\\") else {
                offset += 1
                continue
            }
            flush(self, offset)
            offset += 1
            guard offset < bytes.count else { throw fail("unterminated string") }
            let escaped = bytes[offset]
            offset += 1
            switch escaped {
            case UInt8(ascii: "\""): result.append("\"")
            case UInt8(ascii: "\\"): result.append("\\")
            case UInt8(ascii: "/"): result.append("/")
            case UInt8(ascii: "b"): result.append("\u{08}")
            case UInt8(ascii: "f"): result.append("\u{0C}")
            case UInt8(ascii: "n"): result.append("\n")
            case UInt8(ascii: "r"): result.append("\r")
            case UInt8(ascii: "t"): result.append("\t")
            case UInt8(ascii: "u"):
                var code = try hexQuad()
                if code >= 0xD800 && code < 0xDC00, offset + 1 < bytes.count,
                   bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                {
                    let saved = offset
                    offset += 2
                    let low = try hexQuad()
                    if low >= 0xDC00 && low < 0xE000 {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        offset = saved
                    }
                }
                result.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                throw fail("invalid escape")
            }
            runStart = offset
        }
    }
}
