#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a parsed template against a context, one render at a time.
final class TemplateInterpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    let limits: ChatTemplate.Limits
    /// Seconds since the epoch for `strftime_now` (formatted in UTC); `nil` reads the clock (local time).
    let fixedTime: Int?
    private(set) var output = ""
    /// Work done so far: loop iterations plus items visited by filters, `in` and comparisons.
    private var work = 0
    private var callDepth = 0
    private var evaluationDepth = 0

    init(limits: ChatTemplate.Limits, fixedTime: Int?) {
        self.limits = limits
        self.fixedTime = fixedTime
    }

    // MARK: Output

    private func emit(_ text: String) throws(TemplateError) {
        output += text
        if output.utf8.count > limits.maximumOutputBytes {
            throw TemplateError(code: .limitExceeded, message: "output is larger than \(limits.maximumOutputBytes) bytes")
        }
    }

    private func capture(_ body: () throws(TemplateError) -> Void) throws(TemplateError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    private func descend(_ location: TemplatePosition) throws(TemplateError) {
        evaluationDepth += 1
        if evaluationDepth > 4 * TemplateLimits.maximumNesting {
            throw TemplateError(.nestingTooDeep, "evaluation nests too deeply", at: location)
        }
    }

    // MARK: Statements

    func execute(_ statements: [Statement], in scope: Scope) throws(TemplateError) -> Flow {
        for statement in statements {
            let flow = try execute(statement, in: scope)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ statement: Statement, in scope: Scope) throws(TemplateError) -> Flow {
        switch statement {
        case .text(let text):
            try emit(text)
        case .output(let expression, let location):
            let value = try evaluate(expression, in: scope)
            try emit(try stringify(value, at: location))
        case .conditional(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition, in: scope).isTruthy {
                return try execute(branch.body, in: scope)
            }
            return try execute(otherwise, in: scope)
        case .forLoop(let loop):
            try runLoop(loop, in: scope)
        case .assign(let target, let expression, let location):
            try assign(try evaluate(expression, in: scope), to: target, in: scope, at: location)
        case .assignBlock(let target, let filters, let body, let location):
            var value = RuntimeValue.string(try capture { () throws(TemplateError) in _ = try execute(body, in: scope) })
            for filter in filters { value = try applyFilter(filter.name, to: value, filter.arguments, in: scope, at: filter.location) }
            try assign(value, to: target, in: scope, at: location)
        case .macro(let definition):
            scope.variables[definition.name] = .macro(Macro(definition: definition, scope: scope))
        case .callBlock(let call, let callerParameters, let body, let location):
            guard case .call(let calleeExpression, let arguments, _) = call else { return .normal }
            let callee = try evaluate(calleeExpression, in: scope)
            guard case .macro(let macro) = callee else {
                throw TemplateError(.type, "'call' needs a macro, got \(callee.typeName)", at: location)
            }
            let caller = Macro(
                definition: MacroDefinition(name: "caller", parameters: callerParameters, body: body, location: location),
                scope: scope)
            let (positional, keyword) = try evaluateArguments(arguments, in: scope)
            try emit(try stringify(try invoke(macro, positional, keyword, caller: caller, at: location), at: location))
        case .filterBlock(let filters, let body):
            var value = RuntimeValue.string(try capture { () throws(TemplateError) in _ = try execute(body, in: scope) })
            for filter in filters { value = try applyFilter(filter.name, to: value, filter.arguments, in: scope, at: filter.location) }
            try emit(try stringify(value, at: .unknown))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func assign(_ value: RuntimeValue, to target: AssignTarget, in scope: Scope, at location: TemplatePosition) throws(TemplateError) {
        switch target {
        case .name(let name):
            scope.variables[name] = value
        case .tuple(let names):
            let items = try unpack(value, count: names.count, at: location)
            for (name, item) in zip(names, items) { scope.variables[name] = item }
        case .attribute(let object, let attribute):
            guard case .namespace(let namespace)? = scope.lookup(object) else {
                throw TemplateError(.type, "cannot assign attribute on non-namespace object '\(object)'", at: location)
            }
            namespace.attributes[attribute] = value
        }
    }

    private func unpack(_ value: RuntimeValue, count: Int, at location: TemplatePosition) throws(TemplateError) -> [RuntimeValue] {
        let items = try iterate(value, at: location)
        guard items.count == count else {
            let message = items.count > count
                ? "too many values to unpack (expected \(count))"
                : "not enough values to unpack (expected \(count), got \(items.count))"
            throw TemplateError(.type, message, at: location)
        }
        return items
    }

    private func runLoop(_ loop: ForLoop, in scope: Scope) throws(TemplateError) {
        var items = try iterate(try evaluate(loop.iterable, in: scope), at: loop.location)
        if let condition = loop.condition {
            var kept: [RuntimeValue] = []
            for item in items {
                try countIteration(loop.location)
                let filterScope = Scope(parent: scope)
                try assign(item, to: loop.target, in: filterScope, at: loop.location)
                if try evaluate(condition, in: filterScope).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(loop.elseBody, in: Scope(parent: scope))
            return
        }
        for (index, item) in items.enumerated() {
            try countIteration(loop.location)
            let iterationScope = Scope(parent: scope)
            iterationScope.variables["loop"] = .loop(LoopState(index0: index, items: items))
            try assign(item, to: loop.target, in: iterationScope, at: loop.location)
            if try execute(loop.body, in: iterationScope) == .breakLoop { break }
        }
    }

    private func countIteration(_ location: TemplatePosition) throws(TemplateError) {
        try charge(1, at: location)
    }

    /// Counts `units` of work against `limits.maximumLoopIterations`.
    func charge(_ units: Int, at location: TemplatePosition) throws(TemplateError) {
        work += units
        if work > limits.maximumLoopIterations {
            throw TemplateError(.limitExceeded, "more than \(limits.maximumLoopIterations) loop iterations (or items visited by filters)", at: location)
        }
    }

    /// Throws when a string is larger than the output limit.
    func checkSize(_ byteCount: Int, at location: TemplatePosition) throws(TemplateError) {
        if byteCount > limits.maximumOutputBytes {
            throw TemplateError(.limitExceeded, "a string grew larger than \(limits.maximumOutputBytes) bytes", at: location)
        }
    }

    /// Throws when a value built by the template nests deeper than the data limit (deep values
    /// would otherwise exhaust the stack when printed, compared or freed).
    func checkNesting(_ value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) {
        func depth(_ value: RuntimeValue, _ level: Int) throws(TemplateError) {
            guard level <= TemplateLimits.maximumDataDepth else {
                throw TemplateError(.nestingTooDeep, "a value nests deeper than \(TemplateLimits.maximumDataDepth) levels", at: location)
            }
            switch value {
            case .array(let items), .tuple(let items):
                try charge(items.count, at: location)
                for item in items { try depth(item, level + 1) }
            case .dictionary(let dictionary):
                try charge(dictionary.count, at: location)
                for item in dictionary.values { try depth(item, level + 1) }
            case .namespace(let namespace):
                try charge(namespace.attributes.count, at: location)
                for item in namespace.attributes.values { try depth(item, level + 1) }
            default:
                break
            }
        }
        try depth(value, 0)
    }

    /// The items a `for` loop (or a filter) walks: list items, string characters, dictionary keys.
    func iterate(_ value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> [RuntimeValue] {
        switch value {
        case .array(let items), .tuple(let items):
            try charge(items.count, at: location)
            return items
        case .undefined: return []
        case .string(let text):
            try charge(text.utf8.count, at: location)
            return text.unicodeScalars.map { .string(String($0)) }
        case .dictionary(let dictionary):
            try charge(dictionary.count, at: location)
            return dictionary.keys.map { .string($0) }
        default: throw TemplateError(.type, "'\(value.typeName)' object is not iterable", at: location)
        }
    }

    // MARK: Macros

    func invoke(_ macro: Macro, _ positional: [RuntimeValue], _ keyword: [(String, RuntimeValue)], caller: Macro?, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        let definition = macro.definition
        guard positional.count <= definition.parameters.count else {
            throw TemplateError(.type, "macro '\(definition.name)' takes not more than \(definition.parameters.count) argument(s)", at: location)
        }
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth <= TemplateLimits.maximumCallDepth else {
            throw TemplateError(.nestingTooDeep, "macro calls nest deeper than \(TemplateLimits.maximumCallDepth) levels", at: location)
        }
        let scope = Scope(parent: macro.scope)
        var keywordValues: [String: RuntimeValue] = [:]
        for (name, value) in keyword {
            guard definition.parameters.contains(where: { $0.name == name }) else {
                throw TemplateError(.type, "macro '\(definition.name)' takes no keyword argument '\(name)'", at: location)
            }
            keywordValues[name] = value
        }
        for (index, parameter) in definition.parameters.enumerated() {
            if index < positional.count {
                scope.variables[parameter.name] = positional[index]
            } else if let value = keywordValues[parameter.name] {
                scope.variables[parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                scope.variables[parameter.name] = try evaluate(defaultValue, in: scope)
            } else {
                scope.variables[parameter.name] = .undefined(hint: "parameter '\(parameter.name)' was not provided")
            }
        }
        if let caller { scope.variables["caller"] = .macro(caller) }
        let text = try capture { () throws(TemplateError) in _ = try execute(definition.body, in: scope) }
        return .string(text)
    }

    // MARK: Expressions

    /// Evaluates an expression; a string result larger than the output limit is an error, so
    /// doubling a string in a loop cannot exhaust memory.
    func evaluate(_ expression: Expression, in scope: Scope) throws(TemplateError) -> RuntimeValue {
        let value = try evaluateUnchecked(expression, in: scope)
        if case .string(let text) = value, text.utf8.count > limits.maximumOutputBytes {
            throw TemplateError(.limitExceeded, "a string grew larger than \(limits.maximumOutputBytes) bytes", at: Self.location(of: expression))
        }
        return value
    }

    private func evaluateUnchecked(_ expression: Expression, in scope: Scope) throws(TemplateError) -> RuntimeValue {
        switch expression {
        case .literal(let literal):
            switch literal {
            case .none: return .none
            case .bool(let flag): return .bool(flag)
            case .integer(let number): return .integer(number)
            case .double(let number): return .double(number)
            case .string(let text): return .string(text)
            }
        case .name(let name, _):
            if let value = scope.lookup(name) { return value }
            if TemplateParser.globalFunctions.contains(name) { return .function(name) }
            return .undefinedName(name)
        default:
            break
        }
        let location = Self.location(of: expression)
        try descend(location)
        defer { evaluationDepth -= 1 }
        switch expression {
        case .literal, .name:
            return .none  // handled above
        case .list(let items):
            var values: [RuntimeValue] = []
            for item in items { values.append(try evaluate(item, in: scope)) }
            let list = RuntimeValue.array(values)
            try checkNesting(list, at: Self.location(of: expression))
            return list
        case .tuple(let items):
            var values: [RuntimeValue] = []
            for item in items { values.append(try evaluate(item, in: scope)) }
            let tuple = RuntimeValue.tuple(values)
            try checkNesting(tuple, at: Self.location(of: expression))
            return tuple
        case .dictionary(let pairs, let location):
            var dictionary = RuntimeDictionary()
            for pair in pairs {
                let key = try evaluate(pair.key, in: scope)
                guard case .string(let text) = key else {
                    throw TemplateError(.type, "dictionary keys must be strings, got \(key.typeName)", at: location)
                }
                dictionary[text] = try evaluate(pair.value, in: scope)
            }
            try checkNesting(.dictionary(dictionary), at: location)
            return .dictionary(dictionary)
        case .attribute(let object, let name, let location):
            return try attribute(name, of: try evaluate(object, in: scope), at: location)
        case .item(let object, let key, let location):
            return try item(try evaluate(key, in: scope), of: try evaluate(object, in: scope), at: location)
        case .slice(let object, let start, let stop, let step, let location):
            let base = try evaluate(object, in: scope)
            return try slice(base, start: try start.map { e throws(TemplateError) in try evaluate(e, in: scope) },
                             stop: try stop.map { e throws(TemplateError) in try evaluate(e, in: scope) },
                             step: try step.map { e throws(TemplateError) in try evaluate(e, in: scope) }, at: location)
        case .call(let callee, let arguments, let location):
            let function = try evaluate(callee, in: scope)
            let (positional, keyword) = try evaluateArguments(arguments, in: scope)
            return try call(function, positional, keyword, at: location)
        case .filter(let base, let name, let arguments, let location):
            return try applyFilter(name, to: try evaluate(base, in: scope), arguments, in: scope, at: location)
        case .test(let base, let name, let arguments, let negated, let location):
            let value = try evaluate(base, in: scope)
            let (positional, _) = try evaluateArguments(arguments, in: scope)
            let result = try applyTest(name, to: value, positional, at: location)
            return .bool(result != negated)
        case .negate(let operand, let location):
            let value = try evaluate(operand, in: scope)
            switch value {
            case .integer(let number):
                guard number != .min else { throw TemplateError(.type, "integer overflow", at: location) }
                return .integer(-number)
            case .bool(let flag): return .integer(flag ? -1 : 0)
            case .double(let number): return .double(-number)
            case .undefined(let hint): throw TemplateError(.undefined, hint, at: location)
            default: throw TemplateError(.type, "bad operand type for unary -: '\(value.typeName)'", at: location)
            }
        case .plus(let operand, let location):
            let value = try evaluate(operand, in: scope)
            switch value {
            case .integer, .double: return value
            case .bool(let flag): return .integer(flag ? 1 : 0)
            case .undefined(let hint): throw TemplateError(.undefined, hint, at: location)
            default: throw TemplateError(.type, "bad operand type for unary +: '\(value.typeName)'", at: location)
            }
        case .binary(let op, let left, let right, let location):
            return try binary(op, try evaluate(left, in: scope), try evaluate(right, in: scope), at: location)
        case .and(let left, let right):
            let value = try evaluate(left, in: scope)
            return value.isTruthy ? try evaluate(right, in: scope) : value
        case .or(let left, let right):
            let value = try evaluate(left, in: scope)
            return value.isTruthy ? value : try evaluate(right, in: scope)
        case .not(let operand):
            return .bool(!(try evaluate(operand, in: scope).isTruthy))
        case .compare(let first, let operations, let location):
            var left = try evaluate(first, in: scope)
            for (op, rightExpression) in operations {
                let right = try evaluate(rightExpression, in: scope)
                guard try compare(op, left, right, at: location) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition, in: scope).isTruthy { return try evaluate(then, in: scope) }
            guard let otherwise else {
                return .undefined(hint: "the inline if-expression evaluated to false and no else section was defined.")
            }
            return try evaluate(otherwise, in: scope)
        case .concat(let items, let location):
            var text = ""
            for item in items {
                text += try stringify(try evaluate(item, in: scope), at: location)
                try checkSize(text.utf8.count, at: location)
            }
            return .string(text)
        }
    }

    func evaluateArguments(_ arguments: Arguments, in scope: Scope) throws(TemplateError) -> ([RuntimeValue], [(String, RuntimeValue)]) {
        var positional: [RuntimeValue] = []
        for argument in arguments.positional { positional.append(try evaluate(argument, in: scope)) }
        var keyword: [(String, RuntimeValue)] = []
        for argument in arguments.keyword { keyword.append((argument.name, try evaluate(argument.value, in: scope))) }
        return (positional, keyword)
    }

    static func location(of expression: Expression) -> TemplatePosition {
        switch expression {
        case .name(_, let location), .dictionary(_, let location), .attribute(_, _, let location), .item(_, _, let location),
             .slice(_, _, _, _, let location), .call(_, _, let location), .filter(_, _, _, let location),
             .test(_, _, _, _, let location), .negate(_, let location), .plus(_, let location), .binary(_, _, _, let location),
             .compare(_, _, let location), .concat(_, let location):
            return location
        case .and(let left, _), .or(let left, _), .not(let left), .conditional(let left, _, _):
            return location(of: left)
        case .list(let items), .tuple(let items):
            return items.first.map { location(of: $0) } ?? .unknown
        case .literal:
            return .unknown
        }
    }

    // MARK: Conversions

    /// `str(value)` as jinja2 prints it (undefined prints as nothing).
    func stringify(_ value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> String {
        switch value {
        case .string(let text): return text
        case .undefined: return ""
        case .integer(let number): return String(number)
        default: return try representation(value, topLevel: true, depth: 0, at: location)
        }
    }

    /// `repr(value)` (or `str` at the top level, which differs only for strings and undefined).
    func representation(_ value: RuntimeValue, topLevel: Bool = false, depth: Int = 0, at location: TemplatePosition) throws(TemplateError) -> String {
        guard depth < TemplateLimits.maximumDataDepth else {
            throw TemplateError(.nestingTooDeep, "value nests too deeply to print", at: location)
        }
        switch value {
        case .undefined: return topLevel ? "" : "Undefined"
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .integer(let number): return String(number)
        case .double(let number): return PythonText.float(number)
        case .string(let text): return topLevel ? text : PythonText.quoted(text)
        case .array(let items):
            var parts: [String] = []
            var size = 0
            for item in items {
                parts.append(try representation(item, depth: depth + 1, at: location))
                size += parts[parts.count - 1].utf8.count + 2
                try checkSize(size, at: location)
            }
            return "[" + parts.joined(separator: ", ") + "]"
        case .tuple(let items):
            var parts: [String] = []
            for item in items { parts.append(try representation(item, depth: depth + 1, at: location)) }
            return "(" + parts.joined(separator: ", ") + (parts.count == 1 ? ",)" : ")")
        case .dictionary(let dictionary):
            var parts: [String] = []
            for key in dictionary.keys {
                parts.append(PythonText.quoted(key) + ": " + (try representation(dictionary[key]!, depth: depth + 1, at: location)))
            }
            return "{" + parts.joined(separator: ", ") + "}"
        case .namespace(let namespace):
            var parts: [String] = []
            for key in namespace.attributes.keys {
                parts.append(PythonText.quoted(key) + ": " + (try representation(namespace.attributes[key]!, depth: depth + 1, at: location)))
            }
            return "<Namespace {" + parts.joined(separator: ", ") + "}>"
        case .macro(let macro): return "<Macro '\(macro.definition.name)'>"
        case .loop: return "<LoopContext>"
        case .function(let name): return "<built-in function \(name)>"
        case .method(let receiver, let name): return "<built-in method \(name) of \(receiver.typeName) object>"
        }
    }

    // MARK: Attribute and item access

    private static let dictionaryMethods: Set<String> = [
        "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values",
    ]
    private static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "index", "isalnum",
        "isalpha", "isdigit", "islower", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
        "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
        "strip", "swapcase", "title", "upper", "zfill",
    ]
    private static let listMethods: Set<String> = [
        "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort",
    ]

    private func missing(_ name: String, on value: RuntimeValue) -> RuntimeValue {
        if case .none = value { return .undefined(hint: "'None' has no attribute '\(name)'") }
        return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
    }

    /// `object.name` (jinja2's `getattr`: Python attribute first, then item).
    func attribute(_ name: String, of value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        switch value {
        case .undefined(let hint):
            throw TemplateError(.undefined, hint, at: location)
        case .dictionary(let dictionary):
            if Self.dictionaryMethods.contains(name) { return .method(receiver: value, name: name) }
            return dictionary[name] ?? missing(name, on: value)
        case .string:
            return Self.stringMethods.contains(name) ? .method(receiver: value, name: name) : missing(name, on: value)
        case .array, .tuple:
            return Self.listMethods.contains(name) ? .method(receiver: value, name: name) : missing(name, on: value)
        case .namespace(let namespace):
            return namespace.attributes[name] ?? missing(name, on: value)
        case .loop(let loop):
            let count = loop.items.count
            switch name {
            case "index": return .integer(loop.index0 + 1)
            case "index0": return .integer(loop.index0)
            case "revindex": return .integer(count - loop.index0)
            case "revindex0": return .integer(count - loop.index0 - 1)
            case "first": return .bool(loop.index0 == 0)
            case "last": return .bool(loop.index0 == count - 1)
            case "length": return .integer(count)
            case "depth": return .integer(1)
            case "depth0": return .integer(0)
            case "previtem":
                return loop.index0 > 0 ? loop.items[loop.index0 - 1] : .undefined(hint: "there is no previous item")
            case "nextitem":
                return loop.index0 + 1 < count ? loop.items[loop.index0 + 1] : .undefined(hint: "there is no next item")
            case "cycle": return .method(receiver: value, name: name)
            default: return missing(name, on: value)
            }
        default:
            return missing(name, on: value)
        }
    }

    /// `object[key]` (jinja2's `getitem`: item first, then attribute for string keys).
    func item(_ key: RuntimeValue, of value: RuntimeValue, at location: TemplatePosition) throws(TemplateError) -> RuntimeValue {
        switch (value, key) {
        case (.undefined(let hint), _):
            throw TemplateError(.undefined, hint, at: location)
        case (.dictionary(let dictionary), .string(let name)):
            if let found = dictionary[name] { return found }
            return try attribute(name, of: value, at: location)
        case (.array(let items), _), (.tuple(let items), _):
            if let index = integerValue(key) {
                let resolved = index < 0 ? index + items.count : index
                if resolved >= 0 && resolved < items.count { return items[resolved] }
                return .undefined(hint: "list object has no element \(index)")
            }
        case (.string(let text), _):
            if let index = integerValue(key) {
                let scalars = Array(text.unicodeScalars)
                let resolved = index < 0 ? index + scalars.count : index
                if resolved >= 0 && resolved < scalars.count { return .string(String(scalars[resolved])) }
                return .undefined(hint: "str object has no element \(index)")
            }
        default:
            break
        }
        if case .string(let name) = key { return try attribute(name, of: value, at: location) }
        if case .none = value { return .undefined(hint: "None has no element \(try representation(key, at: location))") }
        return .undefined(hint: "\(value.typeName) object has no element \(try representation(key, at: location))")
    }

    func integerValue(_ value: RuntimeValue) -> Int? {
        switch value {
        case .integer(let number): number
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }

    private func slice(_ value: RuntimeValue, start: RuntimeValue?, stop: RuntimeValue?, step: RuntimeValue?, at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        func bound(_ value: RuntimeValue?) throws(TemplateError) -> Int? {
            guard let value else { return nil }
            if case .none = value { return nil }
            guard let number = integerValue(value) else {
                throw TemplateError(.type, "slice indices must be integers or None", at: location)
            }
            return number
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw TemplateError(.type, "slice step cannot be zero", at: location) }
        func indices(count: Int) throws(TemplateError) -> [Int] {
            var lower: Int
            var upper: Int
            if stepValue > 0 {
                lower = try bound(start).map { $0 < 0 ? max($0 + count, 0) : min($0, count) } ?? 0
                upper = try bound(stop).map { $0 < 0 ? max($0 + count, 0) : min($0, count) } ?? count
                return lower < upper ? Array(stride(from: lower, to: upper, by: stepValue)) : []
            }
            lower = try bound(start).map { $0 < 0 ? max($0 + count, -1) : min($0, count - 1) } ?? count - 1
            upper = try bound(stop).map { $0 < 0 ? max($0 + count, -1) : min($0, count - 1) } ?? -1
            return lower > upper ? Array(stride(from: lower, to: upper, by: stepValue)) : []
        }
        switch value {
        case .array(let items):
            return .array(try indices(count: items.count).map { items[$0] })
        case .tuple(let items):
            return .tuple(try indices(count: items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            var view = String.UnicodeScalarView()
            for index in try indices(count: scalars.count) { view.append(scalars[index]) }
            return .string(String(view))
        case .undefined(let hint):
            throw TemplateError(.undefined, hint, at: location)
        default:
            return .undefined(hint: "\(value.typeName) object has no element slice")
        }
    }

    // MARK: Calls

    private func call(_ function: RuntimeValue, _ positional: [RuntimeValue], _ keyword: [(String, RuntimeValue)], at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        switch function {
        case .macro(let macro):
            var caller: Macro?
            var keywordArguments = keyword
            if let index = keyword.firstIndex(where: { $0.0 == "caller" }), case .macro(let given) = keyword[index].1 {
                caller = given
                keywordArguments.remove(at: index)
            }
            return try invoke(macro, positional, keywordArguments, caller: caller, at: location)
        case .function(let name):
            return try callGlobal(name, positional, keyword, at: location)
        case .method(let receiver, let name):
            return try callMethod(name, on: receiver, positional, keyword, at: location)
        case .undefined(let hint):
            throw TemplateError(.undefined, hint, at: location)
        default:
            throw TemplateError(.type, "'\(function.typeName)' object is not callable", at: location)
        }
    }

    private func callGlobal(_ name: String, _ positional: [RuntimeValue], _ keyword: [(String, RuntimeValue)], at location: TemplatePosition)
        throws(TemplateError) -> RuntimeValue
    {
        switch name {
        case "raise_exception":
            let message = try positional.first.map { value throws(TemplateError) in try stringify(value, at: location) } ?? ""
            throw TemplateError(.raised, message, at: location)
        case "namespace", "dict":
            var attributes = RuntimeDictionary()
            for argument in positional {
                guard case .dictionary(let initial) = argument else {
                    throw TemplateError(.type, "\(name)() takes a dictionary as positional argument", at: location)
                }
                for key in initial.keys { attributes[key] = initial[key] }
            }
            for (key, value) in keyword { attributes[key] = value }
            try checkNesting(.dictionary(attributes), at: location)
            if name == "dict" { return .dictionary(attributes) }
            let namespace = Namespace()
            namespace.attributes = attributes
            return .namespace(namespace)
        case "range":
            var numbers: [Int] = []
            for argument in positional {
                guard let number = integerValue(argument) else {
                    throw TemplateError(.type, "'\(argument.typeName)' object cannot be interpreted as an integer", at: location)
                }
                numbers.append(number)
            }
            let (start, stop, step): (Int, Int, Int)
            switch numbers.count {
            case 1: (start, stop, step) = (0, numbers[0], 1)
            case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
            case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
            default: throw TemplateError(.type, "range expected 1 to 3 arguments, got \(numbers.count)", at: location)
            }
            guard step != 0 else { throw TemplateError(.type, "range() arg 3 must not be zero", at: location) }
            let (span, overflow) = stop.subtractingReportingOverflow(start)
            let count: Int
            if overflow {
                count = Int.max
            } else if step > 0 {
                count = span <= 0 ? 0 : (span - 1) / step + 1
            } else {
                count = span >= 0 ? 0 : (span + 1) / step + 1
            }
            guard count <= limits.maximumRangeLength else {
                throw TemplateError(.limitExceeded, "range is longer than \(limits.maximumRangeLength) items", at: location)
            }
            return .array((0..<count).map { .integer(start + $0 * step) })
        case "strftime_now":
            guard case .string(let format)? = positional.first else {
                throw TemplateError(.type, "strftime_now() needs a format string", at: location)
            }
            return .string(formatNow(format))
        default:
            throw TemplateError(.unknownFunction, "unknown function '\(name)'", at: location)
        }
    }

    private func formatNow(_ format: String) -> String {
        var seconds = time_t(fixedTime ?? Int(time(nil)))
        var broken = tm()
        if fixedTime != nil { gmtime_r(&seconds, &broken) } else { localtime_r(&seconds, &broken) }
        var buffer = [CChar](repeating: 0, count: 512)
        let written = strftime(&buffer, buffer.count, format, &broken)
        return String(decoding: buffer.prefix(written).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
