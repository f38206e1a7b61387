import CartridgeWire

extension GenerationSummary {
    /// The DONE of a stream or request that produced nothing more: a POWER subscription, a
    /// cancelled EMBED (all counts 0, no trailing text).
    static func ended(_ reason: StopReason) -> GenerationSummary {
        GenerationSummary(
            stopReason: reason, promptTokens: 0, cachedPromptTokens: 0, generatedTokens: 0,
            timeToFirstTokenMicroseconds: 0, totalMicroseconds: 0, tokensPerSecond: 0)
    }
}
