import CartridgeClient
import CartridgeWire
import Synchronization

/// Turns the log-probabilities of TOKEN and PROMPT_TOKEN frames into OpenAI's entries. The
/// cartridge names alternatives by token id; their texts come from DETOKENIZE on the same
/// cartridge, once per id per request.
final class LogprobResolver: Sendable {
    let connection: CartridgeConnection
    /// Alternatives per position the client asked for (the cartridge is asked for at least 1).
    let count: Int
    private let texts = Mutex<[UInt32: String]>([:])

    init(connection: CartridgeConnection, count: Int) {
        self.connection = connection
        self.count = count
    }

    /// The request field `top_logprobs` to send: at least 1, since the token's own log-probability
    /// comes only with a top-k list.
    static func requested(_ count: Int) -> UInt8 { UInt8(min(max(1, count), TokenLogprobs.maximumTopCount)) }

    func text(of tokenID: UInt32) async -> String {
        if let known = texts.withLock({ $0[tokenID] }) { return known }
        let text: String
        if connection.hello.capabilities.contains(.tokenize), let decoded = try? await connection.detokenize([tokenID]) {
            text = decoded
        } else {
            text = "<\(tokenID)>"
        }
        texts.withLock { $0[tokenID] = text }
        return text
    }

    /// The entry of one position: `text` is the token's own text as the stream carried it.
    func entry(text: String, tokenID: UInt32, logprobs: TokenLogprobs?) async -> LogprobEntry {
        texts.withLock { if $0[tokenID] == nil, !text.isEmpty { $0[tokenID] = text } }
        guard let logprobs else { return LogprobEntry(text: text, logprob: nil, top: []) }
        guard !logprobs.logprob.isNaN else { return LogprobEntry(text: text, logprob: nil, top: []) }
        var top: [LogprobEntry.Alternative] = []
        for alternative in logprobs.top.prefix(count) {
            top.append(.init(text: alternative.tokenID == tokenID ? text : await self.text(of: alternative.tokenID), logprob: alternative.logprob))
        }
        return LogprobEntry(text: text, logprob: logprobs.logprob, top: top)
    }
}
