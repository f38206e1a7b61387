/// The log-probabilities that follow a TOKEN or PROMPT_TOKEN when the request asked for them:
/// `f32 logprob` of the token itself, then `list<(u32 token_id, f32 logprob)>` the top k, most
/// likely first (PROTOCOL.md 4.4). Log-probabilities are natural logs of the softmax of the logits
/// the token was chosen from (before temperature, top-k and top-p).
public struct TokenLogprobs: Hashable, Sendable {
    /// The token's own log-probability; NaN for prompt position 0 (nothing predicts it).
    public var logprob: Float
    public var top: [TokenLogprob]

    /// At most this many alternatives per token.
    public static let maximumTopCount = 20

    public init(logprob: Float, top: [TokenLogprob]) {
        self.logprob = logprob
        self.top = top
    }

    /// Reads the fields if the payload has them (they are present only when requested).
    static func decodeIfPresent(_ reader: inout WireReader) throws(WireError) -> TokenLogprobs? {
        guard reader.remaining > 0 else { return nil }
        let logprob = try reader.readFloat("logprob")
        let count = Int(try reader.readUInt32("top_logprobs"))
        guard count <= maximumTopCount, count <= reader.remaining / 8 else {
            throw WireError(.tooLarge, "top_logprobs: \(count) entries (at most \(maximumTopCount), \(reader.remaining) bytes left)")
        }
        var top: [TokenLogprob] = []
        top.reserveCapacity(count)
        for _ in 0..<count {
            top.append(TokenLogprob(tokenID: try reader.readUInt32("top_logprobs.token_id"), logprob: try reader.readFloat("top_logprobs.logprob")))
        }
        return TokenLogprobs(logprob: logprob, top: top)
    }

    func encode(into writer: inout WireWriter) {
        writer.write(logprob)
        writer.write(UInt32(top.count))
        for entry in top {
            writer.write(entry.tokenID)
            writer.write(entry.logprob)
        }
    }
}
