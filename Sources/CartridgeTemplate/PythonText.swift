/// Python's text conversions and `str` methods, which jinja2's output follows.
enum PythonText {
    /// `repr(float)` (also `str(float)` and `json.dumps` of a float).
    static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description is the shortest round-trip digit string; re-lay it out as Python does.
        var text = Substring(value.description)
        var negative = false
        if text.first == "-" {
            negative = true
            text = text.dropFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = ""
        var pointPosition = text.count
        for (offset, character) in text.enumerated() {
            if character == "." { pointPosition = offset } else { digits.append(character) }
        }
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let scientificExponent = pointPosition + exponent - 1
        var result = negative ? "-" : ""
        if scientificExponent >= -4 && scientificExponent < 16 {
            if scientificExponent >= 0 {
                let integerCount = scientificExponent + 1
                if digits.count <= integerCount {
                    result += digits + String(repeating: "0", count: integerCount - digits.count) + ".0"
                } else {
                    result += digits.prefix(integerCount) + "." + digits.dropFirst(integerCount)
                }
            } else {
                result += "0." + String(repeating: "0", count: -scientificExponent - 1) + digits
            }
        } else {
            result += String(digits.prefix(1))
            if digits.count > 1 { result += "." + digits.dropFirst() }
            let magnitude = abs(scientificExponent)
            result += (scientificExponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        return result
    }

    /// `repr(str)`.
    static func quoted(_ text: String) -> String {
        let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var result = String.UnicodeScalarView()
        result.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case quote:
                result.append("\\")
                result.append(quote)
            default:
                if isPrintable(scalar) {
                    result.append(scalar)
                } else {
                    let hex = String(scalar.value, radix: 16)
                    let (prefix, width) = scalar.value < 0x100 ? ("\\x", 2) : scalar.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                    result.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        result.append(quote)
        return String(result)
    }

    /// An approximation of `str.isprintable()` for one scalar.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func trimmed(_ text: String, leading: Bool, trailing: Bool, characters: Set<Unicode.Scalar>?) -> String {
        let scalars = text.unicodeScalars
        func strip(_ scalar: Unicode.Scalar) -> Bool {
            characters.map { $0.contains(scalar) } ?? isPythonWhitespace(scalar)
        }
        var start = scalars.startIndex
        var end = scalars.endIndex
        if leading {
            while start < end && strip(scalars[start]) { start = scalars.index(after: start) }
        }
        if trailing {
            while end > start {
                let previous = scalars.index(before: end)
                guard strip(scalars[previous]) else { break }
                end = previous
            }
        }
        if start == scalars.startIndex && end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }

    static func strip(_ text: String, _ characters: String? = nil) -> String {
        trimmed(text, leading: true, trailing: true, characters: characters.map { Set($0.unicodeScalars) })
    }

    static func lstrip(_ text: String, _ characters: String? = nil) -> String {
        trimmed(text, leading: true, trailing: false, characters: characters.map { Set($0.unicodeScalars) })
    }

    static func rstrip(_ text: String, _ characters: String? = nil) -> String {
        trimmed(text, leading: false, trailing: true, characters: characters.map { Set($0.unicodeScalars) })
    }

    /// `str.split(sep, maxsplit)`.
    static func split(_ text: String, separator: String?, maxSplit: Int) -> [String] {
        let scalars = Array(text.unicodeScalars)
        func string(_ range: Range<Int>) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
        var parts: [String] = []
        guard let separator else {
            var index = 0
            while index < scalars.count {
                while index < scalars.count && isPythonWhitespace(scalars[index]) { index += 1 }
                guard index < scalars.count else { break }
                if maxSplit >= 0 && parts.count == maxSplit {
                    var end = scalars.count
                    while end > index && isPythonWhitespace(scalars[end - 1]) { end -= 1 }
                    parts.append(string(index..<end))
                    return parts
                }
                let start = index
                while index < scalars.count && !isPythonWhitespace(scalars[index]) { index += 1 }
                parts.append(string(start..<index))
            }
            return parts
        }
        let needle = Array(separator.unicodeScalars)
        var start = 0
        var index = 0
        while index + needle.count <= scalars.count {
            if (maxSplit < 0 || parts.count < maxSplit) && scalars[index..<index + needle.count].elementsEqual(needle) {
                parts.append(string(start..<index))
                index += needle.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(string(start..<scalars.count))
        return parts
    }

    /// `str.replace(old, new, count)`.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            var result = ""
            var replaced = 0
            for scalar in text.unicodeScalars {
                if count < 0 || replaced < count {
                    result += new
                    replaced += 1
                }
                result.unicodeScalars.append(scalar)
            }
            if count < 0 || replaced < count { result += new }
            return result
        }
        let parts = split(text, separator: old, maxSplit: count)
        return parts.joined(separator: new)
    }

    private static func isCased(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isCased
    }

    /// `str.title()`.
    static func title(_ text: String) -> String {
        var result = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            if isCased(scalar) {
                result += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
                previousCased = true
            } else {
                result.unicodeScalars.append(scalar)
                previousCased = false
            }
        }
        return result
    }

    /// `str.capitalize()`.
    static func capitalize(_ text: String) -> String {
        var result = ""
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            result += offset == 0 ? scalar.properties.titlecaseMapping : scalar.properties.lowercaseMapping
        }
        return result
    }

    /// jinja2's `title` filter: capitalizes each word split at `[-\s({\[<]+`.
    static func jinjaTitle(_ text: String) -> String {
        var result = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            let isBoundary = isPythonWhitespace(scalar) || "-({[<".unicodeScalars.contains(scalar)
            if isBoundary {
                result.unicodeScalars.append(scalar)
                atWordStart = true
            } else if atWordStart {
                result += scalar.properties.uppercaseMapping
                atWordStart = false
            } else {
                result += scalar.properties.lowercaseMapping
            }
        }
        return result
    }

    /// `str.splitlines()`.
    static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousWasCarriageReturn = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCarriageReturn {
                previousWasCarriageReturn = false
                continue
            }
            previousWasCarriageReturn = scalar == "\r"
            switch scalar.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current))
                current = String.UnicodeScalarView()
            default:
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// `json.dumps` string escaping with `ensure_ascii=False`.
    static func jsonQuoted(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        result.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": result.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": result.append(contentsOf: "\\f".unicodeScalars)
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
                } else {
                    result.append(scalar)
                }
            }
        }
        result.append("\"")
        return String(result)
    }
}
