/// What a peer can do, exchanged in HELLO (u32 bit set). Unknown bits are ignored.
public struct Capabilities: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// GENERATE (decoder models).
    public static let generate = Capabilities(rawValue: 1 << 0)
    /// EMBED (encoder models).
    public static let embed = Capabilities(rawValue: 1 << 1)
    /// TOKENIZE / DETOKENIZE.
    public static let tokenize = Capabilities(rawValue: 1 << 2)
    /// POWER status and notifications.
    public static let power = Capabilities(rawValue: 1 << 3)
    /// GENERATE sessions that keep their KV cache between requests.
    public static let sessions = Capabilities(rawValue: 1 << 4)
    /// CHAT: conversations rendered with the model's own chat template.
    public static let chat = Capabilities(rawValue: 1 << 5)
    /// Top-k log-probabilities in GENERATE and CHAT (`top_logprobs`, echo).
    public static let logprobs = Capabilities(rawValue: 1 << 6)
}
