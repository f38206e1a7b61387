/// Server-sent events as OpenAI streams them: `data: JSON\n\n` per event, `data: [DONE]\n\n` last.
enum ServerSentEvents {
    static func event(_ value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = Array("data: ".utf8)
        bytes.reserveCapacity(256)
        value.write(into: &bytes)
        bytes.append(contentsOf: [0x0A, 0x0A])
        return bytes
    }

    static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)
}
