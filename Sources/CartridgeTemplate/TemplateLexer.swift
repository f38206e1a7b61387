/// One token of a template: text outside tags, a tag delimiter, or a piece of an expression.
struct TemplateToken: Sendable {
    enum Kind: Sendable, Equatable {
        case text, variableBegin, variableEnd, blockBegin, blockEnd
        case name, string, integer, float, symbol
        case end
    }

    var kind: Kind
    /// Text content, name, decoded string value, or the operator symbol.
    var text: String = ""
    var integer: Int = 0
    var float: Double = 0
    var location: TemplatePosition
}

/// Splits a template into tokens the way jinja2's lexer does with `trim_blocks=True`,
/// `lstrip_blocks=True` and `keep_trailing_newline=False`.
struct TemplateLexer {
    private let source: [Unicode.Scalar]
    private var lineStarts: [Int] = [0]
    private var tokens: [TemplateToken] = []
    private var position = 0
    private var lineStarting = true

    init(source text: String) {
        // jinja2 normalizes every newline sequence to "\n" and drops one trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCarriageReturn = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCarriageReturn {
                previousWasCarriageReturn = false
                continue
            }
            previousWasCarriageReturn = scalar == "\r"
            scalars.append(scalar == "\r" ? "\n" : scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        for (index, scalar) in scalars.enumerated() where scalar == "\n" { lineStarts.append(index + 1) }
    }

    func location(_ offset: Int) -> TemplatePosition {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return TemplatePosition(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func at(_ offset: Int) -> Unicode.Scalar? {
        offset >= 0 && offset < source.count ? source[offset] : nil
    }

    private func starts(with literal: String, at offset: Int) -> Bool {
        var index = offset
        for scalar in literal.unicodeScalars {
            guard at(index) == scalar else { return false }
            index += 1
        }
        return true
    }

    private func string(_ range: Range<Int>) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: source[range])
        return String(result)
    }

    private func fail(_ message: String, at offset: Int, code: TemplateError.Code = .syntax) -> TemplateError {
        TemplateError(code, message, at: location(offset))
    }

    mutating func tokenize() throws(TemplateError) -> [TemplateToken] {
        while position < source.count {
            try lexData()
        }
        tokens.append(TemplateToken(kind: .end, location: location(source.count)))
        return tokens
    }

    private enum TagKind { case variable, block, comment }

    /// Text up to the next tag, with `-`/lstrip handling, then the tag itself.
    private mutating func lexData() throws(TemplateError) {
        var index = position
        var tag: TagKind?
        while index + 1 < source.count {
            if source[index] == "{" {
                switch source[index + 1] {
                case "{": tag = .variable
                case "%": tag = .block
                case "#": tag = .comment
                default: break
                }
                if tag != nil { break }
            }
            index += 1
        }
        guard let tag else {
            emitText(position..<source.count)
            position = source.count
            return
        }
        let tagStart = index
        var afterDelimiter = tagStart + 2
        let sign = at(afterDelimiter)
        let hasSign = sign == "-" || sign == "+"
        if hasSign { afterDelimiter += 1 }

        var textEnd = tagStart
        if sign == "-" {
            while textEnd > position && isPythonWhitespace(source[textEnd - 1]) { textEnd -= 1 }
        } else if sign != "+" && tag != .variable {
            // lstrip_blocks: drop whitespace between the line start and a block or comment tag.
            var lineStart = tagStart
            while lineStart > position && source[lineStart - 1] != "\n" { lineStart -= 1 }
            let atNewline = lineStart > position
            if (atNewline || lineStarting) && lineStart < tagStart
                && source[lineStart..<tagStart].allSatisfy(isPythonWhitespace)
            {
                textEnd = lineStart
            }
        }

        if tag == .block, let rawEnd = rawBeginEnd(after: afterDelimiter) {
            emitText(position..<textEnd)
            try lexRaw(contentStart: rawEnd, tagStart: tagStart)
            return
        }
        emitText(position..<textEnd)

        switch tag {
        case .comment:
            var end = afterDelimiter
            while true {
                guard end + 1 < source.count else {
                    throw fail("missing end of comment tag", at: tagStart, code: .unclosedBlock)
                }
                if source[end] == "#" && source[end + 1] == "}" { break }
                end += 1
            }
            let modifier = end - 1 >= afterDelimiter ? source[end - 1] : nil
            var next = end + 2
            if modifier == "-" {
                while next < source.count && isPythonWhitespace(source[next]) { next += 1 }
            } else if modifier != "+" && at(next) == "\n" {
                next += 1
            }
            position = next
            lineStarting = source[next - 1] == "\n"
        case .variable, .block:
            tokens.append(TemplateToken(kind: tag == .block ? .blockBegin : .variableBegin, location: location(tagStart)))
            position = afterDelimiter
            try lexTag(isBlock: tag == .block, tagStart: tagStart)
        }
    }

    private mutating func emitText(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        tokens.append(TemplateToken(kind: .text, text: string(range), location: location(range.lowerBound)))
    }

    /// If a `{% raw %}` tag starts here (after `{%` and its sign), the offset just past it.
    private func rawBeginEnd(after offset: Int) -> Int? {
        var index = offset
        while let scalar = at(index), isPythonWhitespace(scalar) { index += 1 }
        guard starts(with: "raw", at: index) else { return nil }
        index += 3
        while let scalar = at(index), isPythonWhitespace(scalar) { index += 1 }
        if starts(with: "-%}", at: index) {
            index += 3
            while let scalar = at(index), isPythonWhitespace(scalar) { index += 1 }
            return index
        }
        return starts(with: "%}", at: index) ? index + 2 : nil
    }

    private mutating func lexRaw(contentStart: Int, tagStart: Int) throws(TemplateError) {
        var index = contentStart
        while index + 1 < source.count {
            if source[index] == "{" && source[index + 1] == "%" {
                var cursor = index + 2
                let sign = at(cursor)
                if sign == "-" || sign == "+" { cursor += 1 }
                while let scalar = at(cursor), isPythonWhitespace(scalar) { cursor += 1 }
                if starts(with: "endraw", at: cursor) {
                    cursor += 6
                    while let scalar = at(cursor), isPythonWhitespace(scalar) { cursor += 1 }
                    var tagEnd: Int?
                    if starts(with: "+%}", at: cursor) {
                        tagEnd = cursor + 3
                    } else if starts(with: "-%}", at: cursor) {
                        var next = cursor + 3
                        while let scalar = at(next), isPythonWhitespace(scalar) { next += 1 }
                        tagEnd = next
                    } else if starts(with: "%}", at: cursor) {
                        tagEnd = cursor + 2 + (at(cursor + 2) == "\n" ? 1 : 0)
                    }
                    if let tagEnd {
                        var textEnd = index
                        if sign == "-" {
                            while textEnd > contentStart && isPythonWhitespace(source[textEnd - 1]) { textEnd -= 1 }
                        } else if sign != "+" {
                            var lineStart = index
                            while lineStart > contentStart && source[lineStart - 1] != "\n" { lineStart -= 1 }
                            if lineStart > contentStart && source[lineStart..<index].allSatisfy(isPythonWhitespace) {
                                textEnd = lineStart
                            }
                        }
                        emitText(contentStart..<textEnd)
                        position = tagEnd
                        lineStarting = source[tagEnd - 1] == "\n"
                        return
                    }
                }
            }
            index += 1
        }
        throw fail("missing end of raw directive", at: tagStart, code: .unclosedBlock)
    }

    private static let twoCharacterSymbols: Set<String> = ["//", "**", "==", "!=", ">=", "<="]
    private static let twoCharacterStarts: Set<Unicode.Scalar> = ["/", "*", "=", "!", ">", "<"]
    private static let oneCharacterSymbols: Set<Unicode.Scalar> = [
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";",
    ]

    /// The inside of `{{ ... }}` or `{% ... %}`, up to and including the closing delimiter.
    private mutating func lexTag(isBlock: Bool, tagStart: Int) throws(TemplateError) {
        var brackets: [Unicode.Scalar] = []
        while true {
            guard position < source.count else {
                throw fail(isBlock ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'",
                           at: tagStart, code: .unclosedBlock)
            }
            let closeFirst: Unicode.Scalar = isBlock ? "%" : "}"
            if brackets.isEmpty && (source[position] == closeFirst || source[position] == "-" || source[position] == "+") {
                let close = isBlock ? "%}" : "}}"
                if starts(with: isBlock ? "-%}" : "-}}", at: position) {
                    let endLocation = location(position)
                    position += 3
                    while position < source.count && isPythonWhitespace(source[position]) { position += 1 }
                    finishTag(isBlock: isBlock, at: endLocation)
                    return
                }
                if isBlock && starts(with: "+%}", at: position) {
                    let endLocation = location(position)
                    position += 3
                    finishTag(isBlock: isBlock, at: endLocation)
                    return
                }
                if starts(with: close, at: position) {
                    let endLocation = location(position)
                    position += 2
                    if isBlock && at(position) == "\n" { position += 1 }  // trim_blocks
                    finishTag(isBlock: isBlock, at: endLocation)
                    return
                }
            }
            let scalar = source[position]
            if isPythonWhitespace(scalar) {
                position += 1
                continue
            }
            let start = position
            if isDigit(scalar) {
                try lexNumber()
                continue
            }
            if scalar == "_" || scalar.properties.isXIDStart {
                while let next = at(position), next == "_" || next.properties.isXIDContinue { position += 1 }
                tokens.append(TemplateToken(kind: .name, text: string(start..<position), location: location(start)))
                continue
            }
            if scalar == "'" || scalar == "\"" {
                try lexString(quote: scalar)
                continue
            }
            if position + 1 < source.count && Self.twoCharacterStarts.contains(scalar) {
                let pair = string(position..<position + 2)
                if Self.twoCharacterSymbols.contains(pair) {
                    tokens.append(TemplateToken(kind: .symbol, text: pair, location: location(start)))
                    position += 2
                    continue
                }
            }
            guard Self.oneCharacterSymbols.contains(scalar) else {
                throw fail("unexpected character '\(scalar)'", at: position)
            }
            switch scalar {
            case "(", "[", "{":
                guard brackets.count < TemplateLimits.maximumNesting else {
                    throw fail("brackets nested too deeply", at: position, code: .nestingTooDeep)
                }
                brackets.append(scalar)
            case ")", "]", "}":
                let expected: Unicode.Scalar = scalar == ")" ? "(" : scalar == "]" ? "[" : "{"
                guard let open = brackets.popLast() else { throw fail("unexpected '\(scalar)'", at: position) }
                guard open == expected else { throw fail("unexpected '\(scalar)', expected closing of '\(open)'", at: position) }
            default: break
            }
            tokens.append(TemplateToken(kind: .symbol, text: String(scalar), location: location(start)))
            position += 1
        }
    }

    private mutating func finishTag(isBlock: Bool, at endLocation: TemplatePosition) {
        tokens.append(TemplateToken(kind: isBlock ? .blockEnd : .variableEnd, location: endLocation))
        lineStarting = position > 0 && source[position - 1] == "\n"
    }

    private func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar >= "0" && scalar <= "9" }

    private mutating func lexNumber() throws(TemplateError) {
        let start = position
        func digits(_ lexer: inout TemplateLexer) {
            while let scalar = lexer.at(lexer.position),
                  lexer.isDigit(scalar) || (scalar == "_" && lexer.at(lexer.position + 1).map(lexer.isDigit) == true)
            {
                lexer.position += 1
            }
        }
        digits(&self)
        var isFloat = false
        if at(position) == ".", let next = at(position + 1), isDigit(next) {
            isFloat = true
            position += 1
            digits(&self)
        }
        if let e = at(position), e == "e" || e == "E" {
            var cursor = position + 1
            if let sign = at(cursor), sign == "+" || sign == "-" { cursor += 1 }
            if let next = at(cursor), isDigit(next) {
                isFloat = true
                position = cursor
                digits(&self)
            }
        }
        let text = string(start..<position).filter { $0 != "_" }
        if isFloat {
            guard let value = Double(text) else { throw fail("invalid number '\(text)'", at: start) }
            tokens.append(TemplateToken(kind: .float, text: text, float: value, location: location(start)))
        } else {
            guard let value = Int(text) else { throw fail("integer '\(text)' is too large", at: start) }
            tokens.append(TemplateToken(kind: .integer, text: text, integer: value, location: location(start)))
        }
    }

    /// A string literal, decoded as Python's `unicode-escape` codec does (what jinja2 applies).
    private mutating func lexString(quote: Unicode.Scalar) throws(TemplateError) {
        let start = position
        position += 1
        var value = String.UnicodeScalarView()
        while true {
            guard let scalar = at(position) else { throw fail("unterminated string literal", at: start) }
            if scalar == quote {
                position += 1
                break
            }
            if scalar != "\\" {
                value.append(scalar)
                position += 1
                continue
            }
            guard let escaped = at(position + 1) else { throw fail("unterminated string literal", at: start) }
            position += 2
            switch escaped {
            case "\n": break
            case "\\": value.append("\\")
            case "'": value.append("'")
            case "\"": value.append("\"")
            case "a": value.append("\u{07}")
            case "b": value.append("\u{08}")
            case "f": value.append("\u{0C}")
            case "n": value.append("\n")
            case "r": value.append("\r")
            case "t": value.append("\t")
            case "v": value.append("\u{0B}")
            case "0"..."7":
                var code = escaped.value - 48
                var count = 1
                while count < 3, let next = at(position), next >= "0" && next <= "7" {
                    code = code * 8 + next.value - 48
                    position += 1
                    count += 1
                }
                guard let decoded = Unicode.Scalar(code) else { throw fail("invalid octal escape", at: position) }
                value.append(decoded)
            case "x", "u", "U":
                let width = escaped == "x" ? 2 : escaped == "u" ? 4 : 8
                var code: UInt32 = 0
                for _ in 0..<width {
                    guard let digit = at(position), let nibble = hexValue(digit) else {
                        throw fail("truncated \\\(escaped) escape in string literal", at: position)
                    }
                    code = code &* 16 &+ nibble
                    position += 1
                }
                guard let decoded = Unicode.Scalar(code) else {
                    throw fail("escape \\\(escaped) is not a valid Unicode scalar", at: position)
                }
                value.append(decoded)
            case "N":
                throw fail("\\N{...} escapes are not supported", at: position - 2)
            default:
                value.append("\\")
                value.append(escaped)
            }
        }
        tokens.append(TemplateToken(kind: .string, text: String(value), location: location(start)))
    }

    private func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 48
        case "a"..."f": scalar.value - 87
        case "A"..."F": scalar.value - 55
        default: nil
        }
    }
}

/// Python's `str.isspace()` (and `re`'s `\s` on `str`), which jinja2 uses for whitespace control.
func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        true
    default:
        false
    }
}

/// Bounds that keep hostile templates from exhausting the stack, memory or time.
enum TemplateLimits {
    /// Statement blocks, brackets and expression operators nested deeper than this are rejected.
    static let maximumNesting = 64
    /// Macro calls nested deeper than this fail at render time.
    static let maximumCallDepth = 32
    /// Nested data (arrays/dictionaries) deeper than this fails when converted, printed or serialized.
    static let maximumDataDepth = 128
}
