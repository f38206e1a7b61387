/// One line of a script split into words: `send GENERATE id=2 prompt="Once upon"` gives the
/// command `send`, the arguments `["GENERATE"]` and the fields `id`, `prompt`.
struct ScriptLine: Hashable, Sendable {
    var command: String
    var arguments: [String]
    /// key=value pairs in order (a key may repeat, e.g. `sentence=`).
    var fields: [(key: String, value: String)]
    var location: String

    static func == (lhs: ScriptLine, rhs: ScriptLine) -> Bool {
        lhs.command == rhs.command && lhs.arguments == rhs.arguments && lhs.location == rhs.location
            && lhs.fields.map(\.key) == rhs.fields.map(\.key) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(command)
        hasher.combine(location)
    }

    /// Splits on spaces outside double quotes; inside quotes, `\"`, `\\`, `\n` and `\t` are escapes.
    static func parse(_ text: String, location: String) throws(ConformanceError) -> ScriptLine? {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var escaping = false
        var hasWord = false
        for character in text {
            if escaping {
                switch character {
                case "n": current.append("\n")
                case "t": current.append("\t")
                case "r": current.append("\r")
                case "0": current.append("\0")
                default: current.append(character)
                }
                escaping = false
            } else if inQuotes {
                if character == "\\" { escaping = true } else if character == "\"" { inQuotes = false } else { current.append(character) }
            } else if character == "\"" {
                inQuotes = true
                hasWord = true
            } else if character == "#" && current.isEmpty && !hasWord {
                break  // comment to end of line
            } else if character == " " || character == "\t" {
                if hasWord || !current.isEmpty { words.append(current) }
                current = ""
                hasWord = false
            } else {
                current.append(character)
                hasWord = true
            }
        }
        if inQuotes { throw ConformanceError(.syntax, "unterminated quoted string", at: location) }
        if hasWord || !current.isEmpty { words.append(current) }
        guard let command = words.first else { return nil }
        var arguments: [String] = []
        var fields: [(key: String, value: String)] = []
        for word in words.dropFirst() {
            if let equals = word.firstIndex(of: "="), equals != word.startIndex {
                fields.append((String(word[..<equals]), String(word[word.index(after: equals)...])))
            } else {
                arguments.append(word)
            }
        }
        return ScriptLine(command: command, arguments: arguments, fields: fields, location: location)
    }

    func field(_ key: String) -> String? { fields.last { $0.key == key }?.value }
    func allFields(_ key: String) -> [String] { fields.filter { $0.key == key }.map(\.value) }
}
