/// A value passed into a template: the JSON-like data model of a chat request.
///
/// Dictionaries keep their insertion order, as Python dicts do, so `tojson` output matches jinja2.
public enum TemplateValue: Sendable, Hashable {
    case none
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case dictionary(TemplateDictionary)
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .dictionary(TemplateDictionary(elements)) }
    public init(nilLiteral: ()) { self = .none }
}
