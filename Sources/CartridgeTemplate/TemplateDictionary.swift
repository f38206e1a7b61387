/// A string-keyed dictionary that remembers insertion order (like a Python `dict`).
///
/// Equality ignores order, as Python's does.
public struct TemplateDictionary: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    public init() {}

    /// Builds a dictionary from pairs; a repeated key keeps its first position and its last value.
    public init(_ pairs: some Sequence<(String, TemplateValue)>) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self.init(elements)
    }

    /// The number of entries.
    public var count: Int { keys.count }

    /// The entries in insertion order.
    public var elements: [(key: String, value: TemplateValue)] {
        keys.map { ($0, storage[$0]!) }
    }

    /// Reads, inserts (at the end), replaces (in place) or removes (with `nil`) an entry.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public static func == (lhs: TemplateDictionary, rhs: TemplateDictionary) -> Bool {
        lhs.storage == rhs.storage
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage)
    }
}
