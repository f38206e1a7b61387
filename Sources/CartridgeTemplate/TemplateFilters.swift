/// The filters (`value | name(arguments)`) the interpreter implements, with jinja2 3.1 semantics
/// (and Hugging Face's `tojson`).
enum TemplateFilters {
    static let names: Set<String> = [
        "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "indent", "int", "items", "join",
        "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round",
        "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper",
    ]
}

extension TemplateInterpreter {
    func applyFilter(_ name: String, to value: RuntimeValue, _ arguments: Arguments, in scope: Scope, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        let (positional, keyword) = try evaluateArguments(arguments, in: scope)
        return try applyFilter(name, to: value, CallArguments(positional: positional, keyword: keyword), at: location)
    }

    private func flag(_ value: RuntimeValue?) -> Bool { value?.isTruthy ?? false }

    func length(_ value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> Int {
        switch value {
        case .string(let text): return text.unicodeScalars.count
        case .array(let items), .tuple(let items): return items.count
        case .dictionary(let dictionary): return dictionary.count
        case .undefined: return 0
        default: throw TemplateError(.type, "object of type '\(value.typeName)' has no len()", at: location)
        }
    }

    /// jinja2's attribute getter for `map`/`selectattr`/`join`/`sort`: dotted path, item lookup first.
    private func lookupPath(_ path: RuntimeValue, in value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        if let index = integerValue(path) { return try item(.integer(index), of: value, at: location) }
        let text = try requireString(path, "attribute", at: location)
        var current = value
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let key: RuntimeValue = Int(part).map { .integer($0) } ?? .string(String(part))
            current = try item(key, of: current, at: location)
        }
        return current
    }

    private func sortKey(_ value: RuntimeValue, caseSensitive: Bool) -> RuntimeValue {
        if !caseSensitive, case .string(let text) = value { return .string(text.lowercased()) }
        return value
    }

    func applyFilter(_ name: String, to value: RuntimeValue, _ arguments: CallArguments, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        switch name {
        case "safe":
            return value
        case "string":
            return .string(try stringify(value, at: location))
        case "trim":
            let chars: String? = try arguments.value(0, "chars").flatMap { v throws(TemplateError) in
                if case .none = v { return nil }
                return try requireString(v, "trim chars", at: location)
            }
            return .string(PythonText.strip(try stringify(value, at: location), chars))
        case "upper":
            return .string(try stringify(value, at: location).uppercased())
        case "lower":
            return .string(try stringify(value, at: location).lowercased())
        case "capitalize":
            return .string(PythonText.capitalize(try stringify(value, at: location)))
        case "title":
            return .string(PythonText.jinjaTitle(try stringify(value, at: location)))
        case "length", "count":
            return .integer(try length(value, at: location))
        case "first":
            return try iterate(value, at: location).first ?? .undefined(hint: "No first item, sequence was empty.")
        case "last":
            return try iterate(value, at: location).last ?? .undefined(hint: "No last item, sequence was empty.")
        case "list":
            return .array(try iterate(value, at: location))
        case "reverse":
            if case .string(let text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .array(try iterate(value, at: location).reversed())
        case "default", "d":
            let fallback = arguments.value(0, "default_value") ?? .string("")
            if value.isUndefined || (flag(arguments.value(1, "boolean")) && !value.isTruthy) { return fallback }
            return value
        case "join":
            let separator = try arguments.value(0, "d").map { v throws(TemplateError) in try stringify(v, at: location) } ?? ""
            var items = try iterate(value, at: location)
            if let attribute = arguments.value(1, "attribute"), !attribute.isNone {
                var mapped: [RuntimeValue] = []
                for item in items { mapped.append(try lookupPath(attribute, in: item, at: location)) }
                items = mapped
            }
            var parts: [String] = []
            var size = 0
            for item in items {
                parts.append(try stringify(item, at: location))
                size += parts[parts.count - 1].utf8.count + separator.utf8.count
                try checkSize(size, at: location)
            }
            return .string(parts.joined(separator: separator))
        case "replace":
            let text = try stringify(value, at: location)
            let old = try stringify(arguments.value(0, "old") ?? .string(""), at: location)
            let new = try stringify(arguments.value(1, "new") ?? .string(""), at: location)
            let count = arguments.value(2, "count").flatMap { integerValue($0) } ?? -1
            try checkReplacement(text, old, new, at: location)
            return .string(PythonText.replace(text, old, new, count: count))
        case "items":
            switch value {
            case .undefined: return .array([])
            case .dictionary(let dictionary): return .array(dictionary.keys.map { .tuple([.string($0), dictionary[$0]!]) })
            default: throw TemplateError(.type, "Can only get item pairs from a mapping.", at: location)
            }
        case "tojson":
            return .string(try json(value, arguments, at: location))
        case "int":
            return try toInteger(value, fallback: arguments.value(0, "default") ?? .integer(0), at: location)
        case "float":
            return try toFloat(value, fallback: arguments.value(0, "default") ?? .double(0), at: location)
        case "abs":
            switch value {
            case .integer(let number):
                guard number != .min else { throw TemplateError(.type, "integer overflow", at: location) }
                return .integer(abs(number))
            case .bool(let flag): return .integer(flag ? 1 : 0)
            case .double(let number): return .double(abs(number))
            case .undefined(let hint): throw TemplateError(.undefined, hint, at: location)
            default: throw TemplateError(.type, "bad operand type for abs(): '\(value.typeName)'", at: location)
            }
        case "round":
            return try round(value, arguments, at: location)
        case "indent":
            return .string(try indent(try stringify(value, at: location), arguments, at: location))
        case "escape", "e":
            var escaped = ""
            for character in try stringify(value, at: location) {
                switch character {
                case "&": escaped += "&amp;"
                case "<": escaped += "&lt;"
                case ">": escaped += "&gt;"
                case "\"": escaped += "&#34;"
                case "'": escaped += "&#39;"
                default: escaped.append(character)
                }
            }
            return .string(escaped)
        case "select", "reject", "selectattr", "rejectattr":
            return try select(name, value, arguments, at: location)
        case "map":
            return try map(value, arguments, at: location)
        case "sort", "unique", "min", "max":
            return try ordered(name, value, arguments, at: location)
        case "sum":
            var total = arguments.value(1, "start") ?? .integer(0)
            let attribute = arguments.value(0, "attribute")
            for item in try iterate(value, at: location) {
                let term = try attribute.map { path throws(TemplateError) in try lookupPath(path, in: item, at: location) } ?? item
                total = try binary(.add, total, term, at: location)
            }
            return total
        default:
            throw TemplateError(.unknownFilter, "unknown filter '\(name)'", at: location)
        }
    }

    private func select(_ name: String, _ value: RuntimeValue, _ arguments: CallArguments, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var rest = arguments.positional
        var attribute: RuntimeValue?
        if byAttribute {
            guard !rest.isEmpty else { throw TemplateError(.type, "\(name) needs an attribute name", at: location) }
            attribute = rest.removeFirst()
        }
        var testName: String?
        if !rest.isEmpty { testName = try requireString(rest.removeFirst(), "test name", at: location) }
        if let testName, !TemplatePredicates.names.contains(testName) {
            throw TemplateError(.unknownTest, "unknown test '\(testName)'", at: location)
        }
        var kept: [RuntimeValue] = []
        for item in try iterate(value, at: location) {
            let subject = try attribute.map { path throws(TemplateError) in try lookupPath(path, in: item, at: location) } ?? item
            let passed = try testName.map { test throws(TemplateError) in try applyTest(test, to: subject, rest, at: location) } ?? subject.isTruthy
            if passed == keep { kept.append(item) }
        }
        return .array(kept)
    }

    private func map(_ value: RuntimeValue, _ arguments: CallArguments, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        let items = try iterate(value, at: location)
        if let attribute = arguments.keyword.first(where: { $0.0 == "attribute" })?.1 {
            let fallback = arguments.keyword.first { $0.0 == "default" }?.1
            var mapped: [RuntimeValue] = []
            for item in items {
                let found = try lookupPath(attribute, in: item, at: location)
                mapped.append(found.isUndefined ? fallback ?? found : found)
            }
            return .array(mapped)
        }
        guard let first = arguments.positional.first else { return .array(items) }
        let filterName = try requireString(first, "filter name", at: location)
        guard TemplateFilters.names.contains(filterName) else {
            throw TemplateError(.unknownFilter, "unknown filter '\(filterName)'", at: location)
        }
        let rest = CallArguments(positional: Array(arguments.positional.dropFirst()), keyword: arguments.keyword)
        var mapped: [RuntimeValue] = []
        for item in items { mapped.append(try applyFilter(filterName, to: item, rest, at: location)) }
        return .array(mapped)
    }

    private func ordered(_ name: String, _ value: RuntimeValue, _ arguments: CallArguments, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        let items = try iterate(value, at: location)
        let isSort = name == "sort"
        let reverse = isSort && flag(arguments.value(0, "reverse"))
        let caseSensitive = flag(arguments.value(isSort ? 1 : 0, "case_sensitive"))
        let attribute = arguments.value(isSort ? 2 : 1, "attribute")
        var keys: [RuntimeValue] = []
        for item in items {
            let key = try attribute.map { path throws(TemplateError) in try lookupPath(path, in: item, at: location) } ?? item
            keys.append(sortKey(key, caseSensitive: caseSensitive))
        }
        switch name {
        case "unique":
            var result: [RuntimeValue] = []
            var seen: [RuntimeValue] = []
            for (item, key) in zip(items, keys) {
                try charge(seen.count, at: location)
                guard !seen.contains(where: { equals($0, key) }) else { continue }
                seen.append(key)
                result.append(item)
            }
            return .array(result)
        case "min", "max":
            guard var best = items.indices.first else { return .undefined(hint: "No aggregated item, sequence was empty.") }
            for index in items.indices.dropFirst() {
                let better = name == "min"
                    ? try less(keys[index], keys[best], symbol: "<", at: location)
                    : try less(keys[best], keys[index], symbol: "<", at: location)
                if better { best = index }
            }
            return items[best]
        default:
            // Stable merge sort with Python ordering; comparisons count as work.
            var order = Array(items.indices)
            var scratch = order
            var width = 1
            while width < order.count {
                var start = 0
                while start < order.count {
                    let middle = min(start + width, order.count)
                    let end = min(start + 2 * width, order.count)
                    var left = start
                    var right = middle
                    var out = start
                    try charge(end - start, at: location)
                    while left < middle || right < end {
                        var takeRight = false
                        if left >= middle {
                            takeRight = true
                        } else if right < end {
                            let a = keys[order[left]]
                            let b = keys[order[right]]
                            takeRight = reverse ? try less(a, b, symbol: "<", at: location) : try less(b, a, symbol: "<", at: location)
                        }
                        if takeRight {
                            scratch[out] = order[right]
                            right += 1
                        } else {
                            scratch[out] = order[left]
                            left += 1
                        }
                        out += 1
                    }
                    start = end
                }
                swap(&order, &scratch)
                width *= 2
            }
            return .array(order.map { items[$0] })
        }
    }

    private func toInteger(_ value: RuntimeValue, fallback: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        switch value {
        case .integer: return value
        case .bool(let flag): return .integer(flag ? 1 : 0)
        case .double(let number):
            guard number.isFinite, let converted = Int(exactly: number.rounded(.towardZero)) else { return fallback }
            return .integer(converted)
        case .string(let text):
            let trimmed = PythonText.strip(text).filter { $0 != "_" }
            if let number = Int(trimmed) { return .integer(number) }
            if let number = Double(trimmed), number.isFinite, let converted = Int(exactly: number.rounded(.towardZero)) {
                return .integer(converted)
            }
            return fallback
        case .undefined(let hint):
            throw TemplateError(.undefined, hint, at: location)
        default:
            return fallback
        }
    }

    private func toFloat(_ value: RuntimeValue, fallback: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        switch value {
        case .integer(let number): return .double(Double(number))
        case .bool(let flag): return .double(flag ? 1 : 0)
        case .double: return value
        case .string(let text):
            return Double(PythonText.strip(text)).map { .double($0) } ?? fallback
        case .undefined(let hint):
            throw TemplateError(.undefined, hint, at: location)
        default:
            return fallback
        }
    }

    private func round(_ value: RuntimeValue, _ arguments: CallArguments, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        let precision = arguments.value(0, "precision").flatMap { integerValue($0) } ?? 0
        let method = try arguments.value(1, "method").map { v throws(TemplateError) in try requireString(v, "method", at: location) } ?? "common"
        guard case .double(let number)? = try Optional(toFloat(value, fallback: .none, at: location)) else {
            throw TemplateError(.type, "round() needs a number", at: location)
        }
        var scale = 1.0
        for _ in 0..<min(abs(precision), 300) { scale *= 10 }
        let scaled = precision >= 0 ? number * scale : number / scale
        let rule: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrEven
        let rounded = scaled.rounded(rule)
        return .double(precision >= 0 ? rounded / scale : rounded * scale)
    }

    private func indent(_ text: String, _ arguments: CallArguments, at location: TemplatePosition) throws(TemplateError) -> String {
        let indentation: String
        switch arguments.value(0, "width") {
        case .string(let given)?: indentation = given
        case let width?:
            guard let count = integerValue(width), count >= 0, count <= 4096 else {
                throw TemplateError(.type, "indent width must be a small integer or a string", at: location)
            }
            indentation = String(repeating: " ", count: count)
        case nil: indentation = "    "
        }
        let first = flag(arguments.value(1, "first"))
        let blank = flag(arguments.value(2, "blank"))
        var lines = PythonText.splitLines(text + "\n")
        try checkSize(text.utf8.count + (lines.count + 1) * indentation.utf8.count, at: location)
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }

    /// Hugging Face's `tojson`: `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`.
    private func json(_ value: RuntimeValue, _ arguments: CallArguments, at location: TemplatePosition) throws(TemplateError) -> String {
        var indentation: String?
        switch arguments.value(1, "indent") {
        case nil, .none?: indentation = nil
        case .string(let text)?: indentation = text
        case let width?:
            guard let count = integerValue(width), count <= 4096 else {
                throw TemplateError(.type, "tojson indent must be an integer or a string", at: location)
            }
            indentation = String(repeating: " ", count: max(count, 0))
        }
        var itemSeparator = indentation == nil ? ", " : ","
        var keySeparator = ": "
        if let separators = arguments.value(2, "separators"), let pair = separators.sequenceItems, pair.count == 2 {
            itemSeparator = try requireString(pair[0], "item separator", at: location)
            keySeparator = try requireString(pair[1], "key separator", at: location)
        }
        let sortKeys = flag(arguments.value(3, "sort_keys"))
        try checkNesting(value, at: location)
        var output = ""
        try writeJSON(value, into: &output, indentation: indentation, level: 0, itemSeparator: itemSeparator,
                      keySeparator: keySeparator, sortKeys: sortKeys, at: location)
        return output
    }

    private func writeJSON(_ value: RuntimeValue, into output: inout String, indentation: String?, level: Int, itemSeparator: String,
                           keySeparator: String, sortKeys: Bool, at location: TemplatePosition) throws(TemplateError)
    {
        guard level < TemplateLimits.maximumDataDepth else {
            throw TemplateError(.nestingTooDeep, "value nests too deeply for tojson", at: location)
        }
        func newline(_ depth: Int) -> String {
            guard let indentation else { return "" }
            return "\n" + String(repeating: indentation, count: depth)
        }
        switch value {
        case .none: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .double(let number):
            output += number.isNaN ? "NaN" : number.isInfinite ? (number < 0 ? "-Infinity" : "Infinity") : PythonText.float(number)
        case .string(let text):
            output += PythonText.jsonQuoted(text)
            try checkSize(output.utf8.count, at: location)
        case .array(let items), .tuple(let items):
            guard !items.isEmpty else {
                output += "[]"
                return
            }
            output += "[" + newline(level + 1)
            for (index, item) in items.enumerated() {
                if index > 0 { output += itemSeparator + newline(level + 1) }
                try writeJSON(item, into: &output, indentation: indentation, level: level + 1, itemSeparator: itemSeparator,
                              keySeparator: keySeparator, sortKeys: sortKeys, at: location)
            }
            output += newline(level) + "]"
        case .dictionary(let dictionary):
            guard dictionary.count > 0 else {
                output += "{}"
                return
            }
            let keys = sortKeys ? dictionary.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) } : dictionary.keys
            output += "{" + newline(level + 1)
            for (index, key) in keys.enumerated() {
                if index > 0 { output += itemSeparator + newline(level + 1) }
                output += PythonText.jsonQuoted(key) + keySeparator
                try writeJSON(dictionary[key]!, into: &output, indentation: indentation, level: level + 1, itemSeparator: itemSeparator,
                              keySeparator: keySeparator, sortKeys: sortKeys, at: location)
            }
            output += newline(level) + "}"
        default:
            throw TemplateError(.type, "Object of type \(value.typeName) is not JSON serializable", at: location)
        }
    }
}
