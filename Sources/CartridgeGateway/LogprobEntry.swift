/// One position's log-probabilities as OpenAI reports them: the token's text, its own
/// log-probability (nil where nothing predicts it: the first prompt position), and the most
/// likely alternatives, most likely first.
struct LogprobEntry: Sendable, Equatable {
    var text: String
    var logprob: Float?
    var top: [Alternative]

    struct Alternative: Sendable, Equatable {
        var text: String
        var logprob: Float
    }

    /// `/v1/completions`' `logprobs` object for `entries`, whose texts start at `offset` in the
    /// choice's text.
    static func completionLogprobs(_ entries: [LogprobEntry], offset: Int = 0) -> JSONValue {
        var offsets: [JSONValue] = []
        var position = offset
        for entry in entries {
            offsets.append(.integer(Int64(position)))
            position += entry.text.utf8.count
        }
        return .object([
            ("tokens", .array(entries.map { .string($0.text) })),
            ("token_logprobs", .array(entries.map { $0.logprob.map(JSONValue.float) ?? .null })),
            ("top_logprobs", .array(entries.map { entry in
                guard entry.logprob != nil else { return .null }
                // OpenAI keys the alternatives by text: the first (most likely) of equal texts wins.
                var seen = Set<String>()
                var members: [(String, JSONValue)] = []
                for alternative in entry.top where seen.insert(alternative.text).inserted {
                    members.append((alternative.text, JSONValue.float(alternative.logprob)))
                }
                return .object(members)
            })),
            ("text_offset", .array(offsets)),
        ])
    }

    /// `/v1/chat/completions`' `logprobs` object: `{"content": [...], "refusal": null}`.
    static func chatLogprobs(_ entries: [LogprobEntry]) -> JSONValue {
        func bytes(_ text: String) -> JSONValue { .array(text.utf8.map { .integer(Int64($0)) }) }
        return .object([
            ("content", .array(entries.map { entry in
                .object([
                    ("token", .string(entry.text)),
                    // OpenAI's stand-in for "no probability": -9999.
                    ("logprob", entry.logprob.map(JSONValue.float) ?? .number(-9999)),
                    ("bytes", bytes(entry.text)),
                    ("top_logprobs", .array(entry.top.map { alternative in
                        .object([("token", .string(alternative.text)), ("logprob", JSONValue.float(alternative.logprob)), ("bytes", bytes(alternative.text))])
                    })),
                ])
            })),
            ("refusal", .null),
        ])
    }
}
