/// The Jinja tests (`value is name(arguments)`) the interpreter implements, with jinja2 3.1 semantics.
enum TemplatePredicates {
    static let names: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "even", "false", "float", "ge", "greaterthan", "gt",
        "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas",
        "sequence", "string", "true", "undefined", "upper",
    ]
}

extension TemplateInterpreter {
    func applyTest(_ name: String, to value: RuntimeValue, _ arguments: [RuntimeValue], at location: TemplatePosition)
        throws(TemplateError) -> Bool
    {
        func argument() throws(TemplateError) -> RuntimeValue {
            guard let first = arguments.first else {
                throw TemplateError(.type, "test '\(name)' needs an argument", at: location)
            }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "string":
            if case .string = value { return true }
            return false
        case "mapping":
            if case .dictionary = value { return true }
            return false
        case "number":
            switch value {
            case .integer, .double, .bool: return true
            default: return false
            }
        case "integer":
            if case .integer = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "iterable":
            switch value {
            case .string, .array, .tuple, .dictionary, .undefined: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .string, .array, .tuple, .dictionary, .undefined: return true
            default: return false
            }
        case "callable":
            switch value {
            case .macro, .function, .method: return true
            default: return false
            }
        case "eq", "equalto", "sameas": return equals(value, try argument())
        case "ne": return !equals(value, try argument())
        case "lt", "lessthan": return try less(value, try argument(), symbol: "<", at: location)
        case "gt", "greaterthan": return try less(try argument(), value, symbol: ">", at: location)
        case "le": return try !less(try argument(), value, symbol: "<=", at: location)
        case "ge": return try !less(value, try argument(), symbol: ">=", at: location)
        case "in": return try contains(try argument(), value, at: location)
        case "odd", "even", "divisibleby":
            guard let number = integerValue(value) else {
                if case .undefined(let hint) = value { throw TemplateError(.undefined, hint, at: location) }
                throw TemplateError(.type, "test '\(name)' needs an integer, got \(value.typeName)", at: location)
            }
            if name == "divisibleby" {
                guard let divisor = integerValue(try argument()), divisor != 0 else {
                    throw TemplateError(.type, "divisibleby needs a non-zero integer", at: location)
                }
                return number % divisor == 0
            }
            return (number % 2 != 0) == (name == "odd")
        case "lower", "upper":
            let text = try stringify(value, at: location)
            let hasCased = text.unicodeScalars.contains { $0.properties.isCased }
            return hasCased && (name == "lower" ? text.lowercased() == text : text.uppercased() == text)
        default:
            throw TemplateError(.unknownTest, "unknown test '\(name)'", at: location)
        }
    }
}
