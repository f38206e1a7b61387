/// One alternative of a token's top-k list: an id and its log-probability (natural log).
public struct TokenLogprob: Hashable, Sendable {
    public var tokenID: UInt32
    public var logprob: Float

    public init(tokenID: UInt32, logprob: Float) {
        self.tokenID = tokenID
        self.logprob = logprob
    }
}
