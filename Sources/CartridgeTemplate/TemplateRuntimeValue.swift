/// A value while rendering: the data model plus Jinja's runtime objects (undefined, namespaces,
/// macros, the loop object, functions and bound methods).
indirect enum RuntimeValue {
    /// Jinja's `Undefined`; `hint` is the message of the `UndefinedError` it raises when misused.
    case undefined(hint: String)
    case none
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([RuntimeValue])
    /// A Python tuple (tuple literals, `items()` pairs): a list that prints with parentheses.
    case tuple([RuntimeValue])
    case dictionary(RuntimeDictionary)
    case namespace(Namespace)
    case macro(Macro)
    case loop(LoopState)
    case function(String)
    case method(receiver: RuntimeValue, name: String)

    init(_ value: TemplateValue, depth: Int = 0) throws(TemplateError) {
        guard depth < TemplateLimits.maximumDataDepth else {
            throw TemplateError(code: .nestingTooDeep, message: "context data nests deeper than \(TemplateLimits.maximumDataDepth) levels")
        }
        switch value {
        case .none: self = .none
        case .bool(let flag): self = .bool(flag)
        case .integer(let number): self = .integer(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items):
            var converted: [RuntimeValue] = []
            converted.reserveCapacity(items.count)
            for item in items { converted.append(try RuntimeValue(item, depth: depth + 1)) }
            self = .array(converted)
        case .dictionary(let dictionary):
            var converted = RuntimeDictionary()
            for (key, item) in dictionary.elements { converted[key] = try RuntimeValue(item, depth: depth + 1) }
            self = .dictionary(converted)
        }
    }

    static func undefinedName(_ name: String) -> RuntimeValue {
        .undefined(hint: "'\(name)' is undefined")
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Python's type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .integer: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .tuple: "tuple"
        case .dictionary: "dict"
        case .namespace: "Namespace"
        case .macro: "Macro"
        case .loop: "LoopContext"
        case .function, .method: "builtin_function_or_method"
        }
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let flag): flag
        case .integer(let number): number != 0
        case .double(let number): number != 0
        case .string(let text): !text.isEmpty
        case .array(let items), .tuple(let items): !items.isEmpty
        case .dictionary(let dictionary): dictionary.count > 0
        case .namespace, .macro, .loop, .function, .method: true
        }
    }
}

/// An insertion-ordered dictionary of runtime values.
struct RuntimeDictionary {
    private(set) var keys: [String] = []
    private var storage: [String: RuntimeValue] = [:]

    var count: Int { keys.count }

    subscript(key: String) -> RuntimeValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    var values: [RuntimeValue] { keys.map { storage[$0]! } }
}

/// `namespace(...)`: the one mutable object templates may assign attributes on.
final class Namespace {
    var attributes = RuntimeDictionary()
}

/// A macro (or the `caller` of a call block) with the scope it was defined in.
struct Macro {
    var definition: MacroDefinition
    var scope: Scope
}

/// The `loop` variable of a for loop.
struct LoopState {
    var index0: Int
    var items: [RuntimeValue]
}

/// One level of variables; lookups walk up to the parent.
final class Scope {
    var variables: [String: RuntimeValue] = [:]
    let parent: Scope?

    init(parent: Scope?) {
        self.parent = parent
    }

    func lookup(_ name: String) -> RuntimeValue? {
        var scope: Scope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }
}

extension RuntimeValue {
    /// The items of a list or tuple.
    var sequenceItems: [RuntimeValue]? {
        switch self {
        case .array(let items), .tuple(let items): items
        default: nil
        }
    }
}
