#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One conversation: its KV cache and token history, driven one token at a time so the caller
/// can interleave cancellation, rate caps and I/O between tokens.
///
/// ```swift
/// let session = model.makeSession()
/// let accounting = try session.startGeneration(promptTokens: try model.tokenize("Once upon a time"),
///                                              parameters: GenerationParameters(maxTokens: 100))
/// loop: while true {
///     switch try session.nextToken() {
///     case .token(_, let text): print(text, terminator: "")
///     case .finished(_, let trailingText): print(trailingText); break loop
///     }
/// }
/// ```
///
/// A later `startGeneration` whose prompt extends the history (prompt + generated tokens) reuses
/// the cached positions and only runs the new tokens. Thread-safe (one internal lock), but meant
/// for one caller at a time; it blocks while it computes. To run several sessions' generations
/// together (batched steps, cancellable prefill), drive them through a `GenerationScheduler`.
public final class LlamaSession: Sendable {
    public let model: LlamaModel
    let state: Mutex<SessionState>

    init(model: LlamaModel) {
        self.model = model
        state = Mutex(SessionState(config: model.config))
    }

    /// Tokens whose keys and values are in the cache, in order.
    public var history: [Int32] { state.withLock { $0.history } }

    /// Bytes of KV cache this session can use (allocated lazily, page by page).
    public var kvCacheCapacityBytes: Int { state.withLock { $0.cache.capacityBytes } }


    /// Forgets the history (the cache is overwritten by the next prompt).
    public func reset() { state.withLock { $0.reset() } }

    /// Prepares a generation from `promptTokens` (usually starting with BOS). The longest common
    /// prefix with the history is kept; the rest of the prompt except its last token is run now.
    /// Returns how many prompt tokens were already cached.
    @discardableResult
    public func startGeneration(promptTokens: [Int32], parameters: GenerationParameters) throws(InferenceError) -> Int {
        let model = self.model
        return try state.withLock { (state: inout SessionState) throws(InferenceError) -> Int in
            let cached = try state.begin(prompt: promptTokens, parameters: parameters, model: model)
            try Self.runPrompt(&state, model: model, shouldStop: nil)
            return cached
        }
    }

    /// Runs the prompt positions `begin` left, in chunks of the decoder's row capacity.
    static func runPrompt(_ state: inout SessionState, model: LlamaModel, shouldStop: (@Sendable () -> Bool)?) throws(InferenceError) {
        var rows: [DecoderRow] = []
        while state.prefillRemaining > 0 {
            if let shouldStop, shouldStop() { throw InferenceError(.cancelled, "the prompt was cancelled") }
            rows.removeAll(keepingCapacity: true)
            state.prefillRows(limit: model.prefillChunk, into: &rows)
            let completed = rows.withUnsafeBufferPointer { buffer in
                model.withDecoder { $0.forward(buffer, pool: model.pool, shouldStop: shouldStop) }
            }
            guard completed else { throw InferenceError(.cancelled, "the prompt was cancelled") }
            state.commitPrefill(rows.count)
        }
    }

    /// Runs the model for one token. After `.finished`, further calls return `.finished` again.
    public func nextToken() throws(InferenceError) -> LlamaStep {
        let model = self.model
        return state.withLock { (state: inout SessionState) -> LlamaStep in
            switch state.decodeRow(model: model) {
            case .ended(let step):
                return step
            case .row(let row):
                let limit = model.tokenRateLimit
                let delay = state.pacer.delay(limit: limit, now: SessionState.seconds())
                if delay > 0 { Self.sleep(seconds: delay) }
                state.pacer.record(limit: limit, now: SessionState.seconds())
                model.withDecoder { $0.forward(token: row.token, position: row.position, cache: row.cache, pool: model.pool, logits: row.logits) }
                return state.completeDecode(model: model)
            }
        }
    }

    static func sleep(seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// The log-probabilities of the token the last `nextToken()` returned (nil unless the
    /// generation asked for `topLogprobs` or after `.finished`).
    public var lastLogprobs: TopLogprobs? { state.withLock { $0.lastLogprobs } }

    /// With `echo`: one entry per prompt token of the last `startGeneration` (nil for position 0,
    /// which nothing predicts). Empty without echo.
    public var promptLogprobs: [TopLogprobs?] { state.withLock { $0.promptLogprobs } }

    /// Teacher-forced logits of every position of `tokens` from position 0 (a fresh history):
    /// `tokens.count * vocab` values, position-major; for engine comparisons and tests.
    public func logitsOfEveryPosition(forPrompt tokens: [Int32]) throws(InferenceError) -> [Float] {
        let model = self.model
        return try state.withLock { (state: inout SessionState) throws(InferenceError) -> [Float] in
            guard !tokens.isEmpty else { throw InferenceError(.invalidArgument, "the prompt is empty") }
            try state.check(tokens, model: model)
            state.reset()
            let vocab = model.config.vocab
            var all = [Float](repeating: 0, count: tokens.count * vocab)
            all.withUnsafeMutableBufferPointer { buffer in
                var start = 0
                while start < tokens.count {
                    let count = min(model.decoderLogitRows, tokens.count - start)
                    let rows = (0..<count).map { i in
                        DecoderRow(cache: state.cache, token: tokens[start + i], position: start + i, logits: buffer.baseAddress! + (start + i) * vocab)
                    }
                    _ = rows.withUnsafeBufferPointer { rows in model.withDecoder { $0.forward(rows, pool: model.pool, shouldStop: nil) } }
                    start += count
                }
            }
            state.history = tokens
            return all
        }
    }

    /// Logits after running `tokens` from position 0 (a fresh history); for tests and tools.
    public func logits(forPrompt tokens: [Int32]) throws(InferenceError) -> [Float] {
        let model = self.model
        return try state.withLock { (state: inout SessionState) throws(InferenceError) -> [Float] in
            guard !tokens.isEmpty else { throw InferenceError(.invalidArgument, "the prompt is empty") }
            try state.check(tokens, model: model)
            state.reset()
            // All but the last position in chunks, then the last one with its logits.
            _ = try state.begin(prompt: tokens, parameters: GenerationParameters(), model: model)
            try Self.runPrompt(&state, model: model, shouldStop: nil)
            let last = tokens.count - 1
            let cache = state.cache, logits = state.logits
            model.withDecoder { $0.forward(token: tokens[last], position: last, cache: cache, pool: model.pool, logits: logits) }
            state.history.append(tokens[last])
            state.reset()
            state.history = tokens
            return Array(UnsafeBufferPointer(start: logits, count: model.config.vocab))
        }
    }
}
