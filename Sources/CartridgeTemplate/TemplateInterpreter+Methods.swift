extension TemplateInterpreter {
    /// Reads call arguments by position or keyword, Python style.
    struct CallArguments {
        var positional: [RuntimeValue]
        var keyword: [(String, RuntimeValue)]

        func value(_ index: Int, _ name: String) -> RuntimeValue? {
            if index < positional.count { return positional[index] }
            return keyword.first { $0.0 == name }?.1
        }
    }

    func requireString(_ value: RuntimeValue?, _ what: String, at location: TemplatePosition) throws(TemplateError) -> String {
        switch value {
        case .string(let text)?: return text
        case .undefined(let hint)?: throw TemplateError(.undefined, hint, at: location)
        default: throw TemplateError(.type, "\(what) must be a string, not \(value?.typeName ?? "missing")", at: location)
        }
    }

    private func optionalString(_ value: RuntimeValue?, at location: TemplatePosition) throws(TemplateError) -> String? {
        switch value {
        case nil, .none?: return nil
        default: return try requireString(value, "argument", at: location)
        }
    }

    private func optionalInteger(_ value: RuntimeValue?, _ fallback: Int, at location: TemplatePosition) throws(TemplateError) -> Int {
        guard let value else { return fallback }
        if case .none = value { return fallback }
        guard let number = integerValue(value) else {
            throw TemplateError(.type, "'\(value.typeName)' object cannot be interpreted as an integer", at: location)
        }
        return number
    }

    /// Bounds `replace` output before building it: every match may grow by `new`.
    func checkReplacement(_ text: String, _ old: String, _ new: String, at location: TemplatePosition) throws(TemplateError) {
        let grows = new.utf8.count > old.utf8.count
        guard grows else { return }
        let matches = old.isEmpty ? text.unicodeScalars.count + 1 : PythonText.split(text, separator: old, maxSplit: -1).count - 1
        try checkSize(text.utf8.count + matches * (new.utf8.count - old.utf8.count), at: location)
    }

    func callMethod(_ name: String, on receiver: RuntimeValue, _ positional: [RuntimeValue], _ keyword: [(String, RuntimeValue)], at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        let arguments = CallArguments(positional: positional, keyword: keyword)
        switch (receiver, name) {
        case (.string(let text), "strip"): return .string(PythonText.strip(text, try optionalString(arguments.value(0, "chars"), at: location)))
        case (.string(let text), "lstrip"): return .string(PythonText.lstrip(text, try optionalString(arguments.value(0, "chars"), at: location)))
        case (.string(let text), "rstrip"): return .string(PythonText.rstrip(text, try optionalString(arguments.value(0, "chars"), at: location)))
        case (.string(let text), "upper"): return .string(text.uppercased())
        case (.string(let text), "lower"): return .string(text.lowercased())
        case (.string(let text), "title"): return .string(PythonText.title(text))
        case (.string(let text), "capitalize"): return .string(PythonText.capitalize(text))
        case (.string(let text), "split"):
            let separator = try optionalString(arguments.value(0, "sep"), at: location)
            if separator == "" { throw TemplateError(.type, "empty separator", at: location) }
            let maxSplit = try optionalInteger(arguments.value(1, "maxsplit"), -1, at: location)
            return .array(PythonText.split(text, separator: separator, maxSplit: maxSplit).map { .string($0) })
        case (.string(let text), "startswith"), (.string(let text), "endswith"):
            var candidates: [String] = []
            switch arguments.value(0, "prefix") {
            case .array(let items)?, .tuple(let items)?:
                for item in items { candidates.append(try requireString(item, "\(name) argument", at: location)) }
            case let value:
                candidates.append(try requireString(value, "\(name) argument", at: location))
            }
            let scalars = Array(text.unicodeScalars)
            return .bool(candidates.contains { candidate in
                let pattern = Array(candidate.unicodeScalars)
                guard pattern.count <= scalars.count else { return false }
                return name == "startswith"
                    ? scalars.prefix(pattern.count).elementsEqual(pattern)
                    : scalars.suffix(pattern.count).elementsEqual(pattern)
            })
        case (.string(let text), "replace"):
            let old = try requireString(arguments.value(0, "old"), "replace() argument 1", at: location)
            let new = try requireString(arguments.value(1, "new"), "replace() argument 2", at: location)
            let count = try optionalInteger(arguments.value(2, "count"), -1, at: location)
            try checkReplacement(text, old, new, at: location)
            return .string(PythonText.replace(text, old, new, count: count))
        case (.string(let text), "join"):
            var parts: [String] = []
            var size = 0
            for item in try iterate(arguments.value(0, "iterable") ?? .none, at: location) {
                parts.append(try requireString(item, "sequence item", at: location))
                size += parts[parts.count - 1].utf8.count + text.utf8.count
                try checkSize(size, at: location)
            }
            return .string(parts.joined(separator: text))
        case (.string(let text), "count"):
            let needle = try requireString(arguments.value(0, "sub"), "count() argument", at: location)
            if needle.isEmpty { return .integer(text.unicodeScalars.count + 1) }
            return .integer(PythonText.split(text, separator: needle, maxSplit: -1).count - 1)
        case (.string(let text), "find"):
            let needle = try requireString(arguments.value(0, "sub"), "find() argument", at: location)
            let parts = PythonText.split(text, separator: needle.isEmpty ? "\u{0}" : needle, maxSplit: 1)
            if needle.isEmpty { return .integer(0) }
            return .integer(parts.count > 1 ? parts[0].unicodeScalars.count : -1)
        case (.dictionary(let dictionary), "items"):
            return .array(dictionary.keys.map { .tuple([.string($0), dictionary[$0]!]) })
        case (.dictionary(let dictionary), "keys"):
            return .array(dictionary.keys.map { .string($0) })
        case (.dictionary(let dictionary), "values"):
            return .array(dictionary.values)
        case (.dictionary(let dictionary), "get"):
            guard case .string(let key)? = arguments.value(0, "key") else { return arguments.value(1, "default") ?? .none }
            return dictionary[key] ?? arguments.value(1, "default") ?? .none
        case (.array(let items), "count"), (.tuple(let items), "count"):
            let needle = arguments.value(0, "value") ?? .none
            return .integer(items.filter { equals($0, needle) }.count)
        case (.loop(let loop), "cycle"):
            guard !positional.isEmpty else { throw TemplateError(.type, "no items for cycling given", at: location) }
            return positional[loop.index0 % positional.count]
        default:
            throw TemplateError(.unknownFunction, "method '\(name)' of '\(receiver.typeName)' objects is not supported", at: location)
        }
    }
}
