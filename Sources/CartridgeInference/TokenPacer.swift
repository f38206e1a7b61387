/// Paces a stream's tokens to a tokens/s cap (the power throttle): when the next token is due,
/// and the record of one made. Used by the synchronous `LlamaSession.nextToken` path and by
/// `GenerationScheduler`'s steps alike.
struct TokenPacer {
    /// When the last token was due (seconds on the monotonic clock; 0: none yet).
    private(set) var lastTokenTime: Double = 0

    /// Seconds until the next token is due under `limit` tokens/s (0: now; at most 10).
    func delay(limit: Double?, now: Double) -> Double {
        guard let limit, lastTokenTime > 0 else { return 0 }
        return max(0, min(lastTokenTime + 1 / limit - now, 10))
    }

    /// Records a token made at `now` under `limit`: its due time, so a cap keeps its average
    /// even when a step runs late.
    mutating func record(limit: Double?, now: Double) {
        if let limit, lastTokenTime > 0, lastTokenTime + 1 / limit > now {
            lastTokenTime += 1 / limit
        } else {
            lastTokenTime = now
        }
    }

    mutating func reset() { lastTokenTime = 0 }
}
