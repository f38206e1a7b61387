public import CartridgeWire

/// A parsed conformance script: a name, the capabilities it needs, and its steps.
///
/// The format (docs/CONFORMANCE.md) has one step per line; `#` starts a comment; header comments
/// `# name: ...` and `# requires: generate embed` name the script and what it needs.
public struct ConformanceScript: Sendable {
    public var name: String
    public var requires: Capabilities
    /// Capabilities the cartridge must NOT have (e.g. to test UNSUPPORTED).
    public var without: Capabilities
    public var steps: [ConformanceStep.Located]

    /// Parses `text`. `variables` are the values `$name` may refer to (e.g. `$max_payload`).
    public init(text: String, file: String, variables: [String: Int]) throws(ConformanceError) {
        name = file
        requires = []
        without = []
        var lines: [ScriptLine] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let location = "\(file):\(number + 1)"
            let trimmed = raw.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("# name:") {
                name = String(trimmed.dropFirst("# name:".count)).trimmingSpaces()
                continue
            }
            for (prefix, isRequirement) in [("# requires:", true), ("# without:", false)] where trimmed.hasPrefix(prefix) {
                for word in trimmed.dropFirst(prefix.count).split(separator: " ") {
                    let capability: Capabilities
                    switch word {
                    case "generate": capability = .generate
                    case "embed": capability = .embed
                    case "tokenize": capability = .tokenize
                    case "power": capability = .power
                    case "sessions": capability = .sessions
                    case "chat": capability = .chat
                    case "logprobs": capability = .logprobs
                    default: throw ConformanceError(.badValue, "unknown capability '\(word)'", at: location)
                    }
                    if isRequirement { requires.insert(capability) } else { without.insert(capability) }
                }
            }
            if trimmed.hasPrefix("# requires:") || trimmed.hasPrefix("# without:") { continue }
            if let line = try ScriptLine.parse(String(raw), location: location) { lines.append(line) }
        }
        var index = 0
        steps = try ConformanceScript.parseBlock(lines, index: &index, builder: MessageBuilder(variables: variables), closing: nil)
    }

    private static func parseBlock(
        _ lines: [ScriptLine], index: inout Int, builder: MessageBuilder, closing: String?
    ) throws(ConformanceError) -> [ConformanceStep.Located] {
        var steps: [ConformanceStep.Located] = []
        while index < lines.count {
            let line = lines[index]
            index += 1
            let text = ([line.command] + line.arguments + line.fields.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
            func located(_ step: ConformanceStep) -> ConformanceStep.Located {
                ConformanceStep.Located(step: step, text: text, location: line.location)
            }
            switch line.command {
            case "end":
                guard closing != nil else { throw ConformanceError(.syntax, "'end' without a block", at: line.location) }
                return steps
            case "connect", "reconnect":
                steps.append(located(.connect))
            case "disconnect":
                steps.append(located(.disconnect))
            case "send":
                let frame = try builder.build(line)
                let split = try line.field("split").map { (text: String) throws(ConformanceError) in try builder.integer(text, "split", line.location) }
                steps.append(located(.send(bytes: frame.encoded(), split: split)))
            case "send-hex":
                guard let bytes = bytes(fromHex: line.arguments.joined()) else {
                    throw ConformanceError(.badValue, "send-hex needs hexadecimal bytes", at: line.location)
                }
                steps.append(located(.send(bytes: bytes, split: nil)))
            case "together":
                // Every send up to 'end' goes out in one transport write.
                let block = try parseBlock(lines, index: &index, builder: builder, closing: "end")
                var bytes: [UInt8] = []
                for step in block {
                    guard case .send(let part, _) = step.step else {
                        throw ConformanceError(.syntax, "only send lines may appear in 'together'", at: step.location)
                    }
                    bytes += part
                }
                steps.append(located(.send(bytes: bytes, split: nil)))
            case "expect":
                let type: FrameType?
                if let name = line.arguments.first {
                    guard let known = FrameType(name: name) else {
                        throw ConformanceError(.badValue, "unknown message type \(name)", at: line.location)
                    }
                    type = known
                } else {
                    type = nil
                }
                let id = try line.field("id").map { (text: String) throws(ConformanceError) in
                    UInt32(truncatingIfNeeded: try builder.integer(text, "id", line.location))
                }
                var matchers: [FieldMatcher] = []
                for field in line.fields where field.key != "id" {
                    matchers.append(try matcher(field, builder: builder, location: line.location))
                }
                steps.append(located(.expect(.init(type: type, requestID: id, fields: matchers))))
            case "expect-stream":
                guard let idText = line.field("id") else {
                    throw ConformanceError(.syntax, "expect-stream needs id=", at: line.location)
                }
                let id = UInt32(truncatingIfNeeded: try builder.integer(idText, "id", line.location))
                let minimum = try line.field("min_tokens").map { (text: String) throws(ConformanceError) in try builder.integer(text, "min_tokens", line.location) }
                let maximum = try line.field("max_tokens").map { (text: String) throws(ConformanceError) in try builder.integer(text, "max_tokens", line.location) }
                let first = try line.field("from").map { (text: String) throws(ConformanceError) in try builder.integer(text, "from", line.location) } ?? 0
                let reserved: Set<String> = ["id", "min_tokens", "max_tokens", "from"]
                var matchers: [FieldMatcher] = []
                for field in line.fields where !reserved.contains(field.key) {
                    matchers.append(try matcher(field, builder: builder, location: line.location))
                }
                steps.append(
                    located(.expectStream(requestID: id, done: matchers, minimumTokens: minimum, maximumTokens: maximum, firstIndex: first)))
            case "expect-nothing":
                steps.append(located(.expectNothing(try duration(line.arguments.first ?? "200ms", line.location))))
            case "expect-closed":
                steps.append(located(.expectClosed))
            case "wait":
                steps.append(located(.wait(try duration(line.arguments.first ?? "", line.location))))
            case "repeat":
                guard let countText = line.arguments.first else {
                    throw ConformanceError(.syntax, "repeat needs a count", at: line.location)
                }
                let count = try builder.integer(countText, "repeat", line.location)
                let block = try parseBlock(lines, index: &index, builder: builder, closing: "end")
                steps.append(located(.repeatBlock(count: count, steps: block)))
            default:
                throw ConformanceError(.syntax, "unknown command '\(line.command)'", at: line.location)
            }
        }
        if let closing { throw ConformanceError(.syntax, "missing '\(closing)' at end of file", at: lines.last?.location) }
        return steps
    }

    /// An expected value; `$variable` (after an optional `>=`/`<=`) is replaced by its number.
    private static func matcher(
        _ field: (key: String, value: String), builder: MessageBuilder, location: String
    ) throws(ConformanceError) -> FieldMatcher {
        var value = Substring(field.value)
        var comparison = ""
        if value.hasPrefix(">=") || value.hasPrefix("<=") {
            comparison = String(value.prefix(2))
            value = value.dropFirst(2)
        }
        guard value.hasPrefix("$") else { return FieldMatcher(key: field.key, expected: field.value) }
        let number = try builder.integer(String(value), field.key, location)
        return FieldMatcher(key: field.key, expected: comparison + "\(number)")
    }

    private static func duration(_ text: String, _ location: String) throws(ConformanceError) -> Duration {
        if text.hasSuffix("ms"), let value = Int(text.dropLast(2)) { return .milliseconds(value) }
        if text.hasSuffix("s"), let value = Double(text.dropLast()) { return .milliseconds(Int(value * 1000)) }
        throw ConformanceError(.badValue, "'\(text)' is not a duration like 200ms or 2s", at: location)
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
