import CartridgeWire

/// Builds the frame of a `send` line from its fields, with defaults for what is not given.
struct MessageBuilder {
    var variables: [String: Int]

    func integer(_ text: String, _ key: String, _ location: String) throws(ConformanceError) -> Int {
        // $name, $name+N, $name-N, decimal or 0x hex.
        var text = Substring(text)
        var base = 0
        if text.hasPrefix("$") {
            let name = text.dropFirst().prefix { $0.isLetter || $0 == "_" }
            guard let value = variables[String(name)] else {
                throw ConformanceError(.badValue, "\(key): unknown variable $\(name)", at: location)
            }
            base = value
            text = text.dropFirst(1 + name.count)
            if text.isEmpty { return base }
        }
        let negative = text.hasPrefix("-")
        if text.hasPrefix("+") || text.hasPrefix("-") { text = text.dropFirst() }
        let parsed = text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        guard let number = parsed else { throw ConformanceError(.badValue, "\(key)=\(text) is not a number", at: location) }
        return base + (negative ? -number : number)
    }

    func build(_ line: ScriptLine) throws(ConformanceError) -> Frame {
        guard let typeName = line.arguments.first else {
            throw ConformanceError(.syntax, "send needs a message type", at: line.location)
        }
        let type: FrameType
        if typeName.hasPrefix("0x"), let raw = UInt8(typeName.dropFirst(2), radix: 16) {
            type = FrameType(raw)
        } else if let known = FrameType(name: typeName) {
            type = known
        } else {
            throw ConformanceError(.badValue, "unknown message type \(typeName)", at: line.location)
        }
        let location = line.location
        func number(_ key: String, default value: Int) throws(ConformanceError) -> Int {
            guard let text = line.field(key) else { return value }
            return try integer(text, key, location)
        }
        func float(_ key: String, default value: Float) throws(ConformanceError) -> Float {
            guard let text = line.field(key) else { return value }
            guard let parsed = Float(text) else { throw ConformanceError(.badValue, "\(key)=\(text) is not a number", at: location) }
            return parsed
        }
        func tokens(_ key: String) throws(ConformanceError) -> [UInt32] {
            guard let text = line.field(key), !text.isEmpty else { return [] }
            var values: [UInt32] = []
            // "a,b,c"; "a*n" repeats a n times.
            for part in text.split(separator: ",") {
                let pieces = part.split(separator: "*", maxSplits: 1)
                let value = UInt32(truncatingIfNeeded: try integer(String(pieces[0]), key, location))
                let count = pieces.count == 2 ? try integer(String(pieces[1]), key, location) : 1
                guard count >= 0 && count <= 1 << 20 else {
                    throw ConformanceError(.badValue, "\(key): repeat count \(count) out of range", at: location)
                }
                values += repeatElement(value, count: count)
            }
            return values
        }

        let id = UInt32(truncatingIfNeeded: try number("id", default: 1))
        var flags = FrameFlags(rawValue: UInt16(truncatingIfNeeded: try number("flags", default: 0)))
        let version = UInt8(truncatingIfNeeded: try number("version", default: 1))
        var payload: [UInt8]
        switch type {
        case .hello:
            payload = HelloRequest(
                minimumVersion: UInt16(truncatingIfNeeded: try number("min", default: 1)),
                maximumVersion: UInt16(truncatingIfNeeded: try number("max", default: 1)),
                maximumPayloadLength: UInt32(truncatingIfNeeded: try number("max_payload", default: 1 << 20)),
                clientName: line.field("name") ?? "conformance"
            ).payload()
        case .tokenize:
            var options: TokenizeRequest.Options = []
            if try number("bos", default: 0) != 0 { options.insert(.addBeginning) }
            if try number("eos", default: 0) != 0 { options.insert(.addEnd) }
            payload = TokenizeRequest(text: line.field("text") ?? "", options: options).payload()
        case .detokenize:
            payload = DetokenizeRequest(tokens: try tokens("tokens")).payload()
        case .generate:
            let prompt: Prompt = line.field("tokens") != nil ? .tokens(try tokens("tokens")) : .text(line.field("prompt") ?? "")
            payload = GenerateRequest(
                prompt: prompt, maximumTokens: UInt32(truncatingIfNeeded: try number("max_tokens", default: 16)),
                temperature: try float("temperature", default: 0), topP: try float("top_p", default: 0),
                topK: UInt32(truncatingIfNeeded: try number("top_k", default: 0)),
                seed: UInt64(truncatingIfNeeded: try number("seed", default: 0)),
                session: UInt32(truncatingIfNeeded: try number("session", default: 0)),
                stopSequences: line.allFields("stop"),
                topLogprobs: UInt8(truncatingIfNeeded: try number("top_logprobs", default: 0)),
                echo: try number("echo", default: 0) != 0
            ).payload()
        case .chat:
            // message=ROLE:CONTENT, repeatable, in order.
            let messages = line.allFields("message").map { field -> ChatMessage in
                let parts = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                return ChatMessage(role: String(parts[0]), content: parts.count > 1 ? String(parts[1]) : "")
            }
            payload = ChatRequest(
                messages: messages, maximumTokens: UInt32(truncatingIfNeeded: try number("max_tokens", default: 16)),
                temperature: try float("temperature", default: 0), topP: try float("top_p", default: 0),
                topK: UInt32(truncatingIfNeeded: try number("top_k", default: 0)),
                seed: UInt64(truncatingIfNeeded: try number("seed", default: 0)),
                session: UInt32(truncatingIfNeeded: try number("session", default: 0)),
                stopSequences: line.allFields("stop"),
                topLogprobs: UInt8(truncatingIfNeeded: try number("top_logprobs", default: 0))
            ).payload()
        case .embed:
            payload = EmbedRequest(sentences: line.allFields("sentence")).payload()
        case .power:
            if try number("subscribe", default: 0) != 0 { flags.insert(.subscribe) }
            payload = []
        case .ping:
            if let data = line.field("data") {
                guard data.hasPrefix("hex:"), let decoded = bytes(fromHex: String(data.dropFirst(4))) else {
                    throw ConformanceError(.badValue, "data must be hex:..., got \(data)", at: location)
                }
                payload = decoded
            } else {
                let size = try number("size", default: 0)
                guard size >= 0 && size <= 64 << 20 else { throw ConformanceError(.badValue, "size \(size) out of range", at: location) }
                payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            }
        default:
            payload = []
        }
        if let raw = line.field("payload") {
            guard raw.hasPrefix("hex:"), let decoded = bytes(fromHex: String(raw.dropFirst(4))) else {
                throw ConformanceError(.badValue, "payload must be hex:..., got \(raw)", at: location)
            }
            payload = decoded
        }
        if let cut = line.field("truncate") {
            let count = try integer(cut, "truncate", location)
            payload = Array(payload.prefix(max(0, payload.count - count)))
        }
        return Frame(type: type, flags: flags, requestID: id, payload: payload, version: version)
    }
}
