#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension TemplateInterpreter {
    private enum Number {
        case integer(Int)
        case double(Double)

        var asDouble: Double {
            switch self {
            case .integer(let value): Double(value)
            case .double(let value): value
            }
        }
    }

    private func number(_ value: RuntimeValue) -> Number? {
        switch value {
        case .integer(let number): .integer(number)
        case .bool(let flag): .integer(flag ? 1 : 0)
        case .double(let number): .double(number)
        default: nil
        }
    }

    private func unsupported(_ op: String, _ left: RuntimeValue, _ right: RuntimeValue, at location: TemplatePosition) -> TemplateError {
        if case .undefined(let hint) = left { return TemplateError(.undefined, hint, at: location) }
        if case .undefined(let hint) = right { return TemplateError(.undefined, hint, at: location) }
        if op == "+", case .string = left {
            return TemplateError(.type, "can only concatenate str (not \"\(right.typeName)\") to str", at: location)
        }
        if op == "+", case .array = left {
            return TemplateError(.type, "can only concatenate list (not \"\(right.typeName)\") to list", at: location)
        }
        return TemplateError(.type, "unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'", at: location)
    }

    private func overflow(_ location: TemplatePosition) -> TemplateError {
        TemplateError(.type, "integer overflow", at: location)
    }

    func binary(_ op: BinaryOperator, _ left: RuntimeValue, _ right: RuntimeValue, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        if let a = number(left), let b = number(right) {
            return try arithmetic(op, a, b, at: location)
        }
        switch (op, left, right) {
        case (.add, .string(let a), .string(let b)):
            return .string(a + b)
        case (.add, .array(let a), .array(let b)):
            guard a.count + b.count <= limits.maximumRangeLength else {
                throw TemplateError(.limitExceeded, "list is longer than \(limits.maximumRangeLength) items", at: location)
            }
            return .array(a + b)
        case (.add, .tuple(let a), .tuple(let b)):
            return .tuple(a + b)
        case (.multiply, .string(let text), _), (.multiply, _, .string(let text)):
            guard let count = integerValue(left) ?? integerValue(right) else { break }
            let (total, overflowed) = text.utf8.count.multipliedReportingOverflow(by: max(count, 0))
            guard !overflowed, total <= limits.maximumOutputBytes else {
                throw TemplateError(.limitExceeded, "repeated string is larger than \(limits.maximumOutputBytes) bytes", at: location)
            }
            return .string(String(repeating: text, count: max(count, 0)))
        case (.multiply, .array(let items), _), (.multiply, _, .array(let items)):
            guard let count = integerValue(left) ?? integerValue(right) else { break }
            let (total, overflowed) = items.count.multipliedReportingOverflow(by: max(count, 0))
            guard !overflowed, total <= limits.maximumRangeLength else {
                throw TemplateError(.limitExceeded, "repeated list is longer than \(limits.maximumRangeLength) items", at: location)
            }
            return .array(Array((0..<max(count, 0)).map { _ in items }.joined()))
        default:
            break
        }
        throw unsupported(op.rawValue, left, right, at: location)
    }

    private func arithmetic(_ op: BinaryOperator, _ a: Number, _ b: Number, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        if case .integer(let x) = a, case .integer(let y) = b {
            switch op {
            case .add:
                let (result, overflowed) = x.addingReportingOverflow(y)
                if overflowed { throw overflow(location) }
                return .integer(result)
            case .subtract:
                let (result, overflowed) = x.subtractingReportingOverflow(y)
                if overflowed { throw overflow(location) }
                return .integer(result)
            case .multiply:
                let (result, overflowed) = x.multipliedReportingOverflow(by: y)
                if overflowed { throw overflow(location) }
                return .integer(result)
            case .divide:
                guard y != 0 else { throw TemplateError(.type, "division by zero", at: location) }
                return .double(Double(x) / Double(y))
            case .floorDivide:
                guard y != 0 else { throw TemplateError(.type, "integer division or modulo by zero", at: location) }
                if x == .min && y == -1 { throw overflow(location) }
                let quotient = x / y
                return .integer((x % y != 0 && (x < 0) != (y < 0)) ? quotient - 1 : quotient)
            case .modulo:
                guard y != 0 else { throw TemplateError(.type, "integer division or modulo by zero", at: location) }
                if y == -1 { return .integer(0) }
                let remainder = x % y
                return .integer(remainder != 0 && (remainder < 0) != (y < 0) ? remainder + y : remainder)
            case .power:
                if y < 0 { return .double(pow(Double(x), Double(y))) }
                var result = 1
                var base = x
                var exponent = y
                while exponent > 0 {
                    if exponent & 1 == 1 {
                        let (product, overflowed) = result.multipliedReportingOverflow(by: base)
                        if overflowed { throw overflow(location) }
                        result = product
                    }
                    exponent >>= 1
                    if exponent > 0 {
                        let (square, overflowed) = base.multipliedReportingOverflow(by: base)
                        if overflowed { throw overflow(location) }
                        base = square
                    }
                }
                return .integer(result)
            }
        }
        let x = a.asDouble
        let y = b.asDouble
        switch op {
        case .add: return .double(x + y)
        case .subtract: return .double(x - y)
        case .multiply: return .double(x * y)
        case .divide:
            guard y != 0 else { throw TemplateError(.type, "float division by zero", at: location) }
            return .double(x / y)
        case .floorDivide:
            guard y != 0 else { throw TemplateError(.type, "float floor division by zero", at: location) }
            return .double((x / y).rounded(.down))
        case .modulo:
            guard y != 0 else { throw TemplateError(.type, "float modulo", at: location) }
            let remainder = x.truncatingRemainder(dividingBy: y)
            return .double(remainder != 0 && (remainder < 0) != (y < 0) ? remainder + y : remainder)
        case .power:
            return .double(pow(x, y))
        }
    }

    /// Python `==`.
    func equals(_ left: RuntimeValue, _ right: RuntimeValue, depth: Int = 0) -> Bool {
        guard depth < TemplateLimits.maximumDataDepth else { return false }
        if let a = number(left), let b = number(right) {
            if case .integer(let x) = a, case .integer(let y) = b { return x == y }
            return a.asDouble == b.asDouble
        }
        switch (left, right) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { equals($0, $1, depth: depth + 1) }
        case (.dictionary(let a), .dictionary(let b)):
            guard a.count == b.count else { return false }
            for key in a.keys {
                guard let other = b[key], equals(a[key]!, other, depth: depth + 1) else { return false }
            }
            return true
        case (.namespace(let a), .namespace(let b)): return a === b
        case (.function(let a), .function(let b)): return a == b
        default: return false
        }
    }

    /// Python `<` (and friends): numbers, strings by code point, lists lexicographically.
    func less(_ left: RuntimeValue, _ right: RuntimeValue, symbol: String, at location: TemplatePosition) throws(TemplateError) -> Bool {
        if let a = number(left), let b = number(right) {
            if case .integer(let x) = a, case .integer(let y) = b { return x < y }
            return a.asDouble < b.asDouble
        }
        switch (left, right) {
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
        case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !equals(x, y) {
                return try less(x, y, symbol: symbol, at: location)
            }
            return a.count < b.count
        case (.undefined(let hint), _), (_, .undefined(let hint)):
            throw TemplateError(.undefined, hint, at: location)
        default:
            throw TemplateError(.type, "'\(symbol)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'", at: location)
        }
    }

    /// Python `in`.
    func contains(_ container: RuntimeValue, _ element: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> Bool {
        switch container {
        case .string(let text):
            guard case .string(let needle) = element else {
                throw TemplateError(.type, "'in <string>' requires string as left operand, not \(element.typeName)", at: location)
            }
            if needle.isEmpty { return true }
            let haystack = Array(text.unicodeScalars)
            let pattern = Array(needle.unicodeScalars)
            try charge(haystack.count, at: location)
            guard pattern.count <= haystack.count else { return false }
            for start in 0...(haystack.count - pattern.count) where haystack[start..<start + pattern.count].elementsEqual(pattern) {
                return true
            }
            return false
        case .array(let items), .tuple(let items):
            try charge(items.count, at: location)
            return items.contains { equals($0, element) }
        case .dictionary(let dictionary):
            guard case .string(let key) = element else { return false }
            return dictionary[key] != nil
        case .undefined:
            return false
        case .namespace(let namespace):
            guard case .string(let key) = element else { return false }
            return namespace.attributes[key] != nil
        default:
            throw TemplateError(.type, "argument of type '\(container.typeName)' is not iterable", at: location)
        }
    }

    func compare(_ op: CompareOperator, _ left: RuntimeValue, _ right: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> Bool {
        switch op {
        case .equal: equals(left, right)
        case .notEqual: !equals(left, right)
        case .less: try less(left, right, symbol: "<", at: location)
        case .lessOrEqual: try !less(right, left, symbol: "<=", at: location)
        case .greater: try less(right, left, symbol: ">", at: location)
        case .greaterOrEqual: try !less(left, right, symbol: ">=", at: location)
        case .isIn: try contains(right, left, at: location)
        case .notIn: try !contains(right, left, at: location)
        }
    }
}
