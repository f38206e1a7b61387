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
/// for one caller at a time; it blocks while it computes.
public final class LlamaSession: Sendable {
    public let model: LlamaModel
    private let state: Mutex<SessionState>

    init(model: LlamaModel) {
        self.model = model
        state = Mutex(SessionState(decoder: DecoderState(weights: model.weights)))
    }

    /// Tokens whose keys and values are in the cache, in order.
    public var history: [Int32] { state.withLock { $0.history } }

    /// Bytes of KV cache this session can use (allocated lazily, page by page).
    public var kvCacheCapacityBytes: Int { state.withLock { $0.decoder.kvCacheBytes } }

    /// Forgets the history (the cache is overwritten by the next prompt).
    public func reset() { state.withLock { $0.reset() } }

    /// Prepares a generation from `promptTokens` (usually starting with BOS). The longest common
    /// prefix with the history is kept; the rest of the prompt except its last token is run now.
    /// Returns how many prompt tokens were already cached.
    @discardableResult
    public func startGeneration(promptTokens: [Int32], parameters: GenerationParameters) throws(InferenceError) -> Int {
        let model = self.model
        return try state.withLock { (state: inout SessionState) throws(InferenceError) -> Int in
            try state.start(prompt: promptTokens, parameters: parameters, model: model)
        }
    }

    /// Runs the model for one token. After `.finished`, further calls return `.finished` again.
    public func nextToken() throws(InferenceError) -> LlamaStep {
        let model = self.model
        return try state.withLock { (state: inout SessionState) throws(InferenceError) -> LlamaStep in
            try state.next(model: model)
        }
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
            var all: [Float] = []
            all.reserveCapacity(tokens.count * vocab)
            for (position, token) in tokens.enumerated() {
                state.decoder.forward(token: Int(token), pos: position, pool: model.pool, computeLogits: true)
                state.history.append(token)
                all.append(contentsOf: UnsafeBufferPointer(start: state.decoder.logits, count: vocab))
            }
            return all
        }
    }

    /// Logits after running `tokens` from position 0 (a fresh history); for tests and tools.
    public func logits(forPrompt tokens: [Int32]) throws(InferenceError) -> [Float] {
        let model = self.model
        return try state.withLock { (state: inout SessionState) throws(InferenceError) -> [Float] in
            try state.logits(prompt: tokens, model: model)
        }
    }
}

/// The mutable part of a session, guarded by its mutex.
struct SessionState: ~Copyable {
    let decoder: DecoderState
    var history: [Int32] = []
    /// The token to run next (last prompt token or last sampled token); nil when idle.
    var pending: Int32?
    var parameters = GenerationParameters()
    var sampler = TokenSampler(.greedy)
    var generated = 0
    var finished: LlamaStopReason? = .maxTokens
    /// Generated bytes not yet delivered (incomplete UTF-8 or a possible stop-sequence prefix).
    var unsent: [UInt8] = []
    var stopSequences: [[UInt8]] = []
    var lastTokenTime: Double = 0
    var lastLogprobs: TopLogprobs?
    var promptLogprobs: [TopLogprobs?] = []

    init(decoder: DecoderState) { self.decoder = decoder }

    mutating func reset() {
        history = []
        pending = nil
        finished = .maxTokens
        unsent = []
    }

    func check(_ tokens: [Int32], model: LlamaModel) throws(InferenceError) {
        let vocab = model.config.vocab
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw InferenceError(.invalidArgument, "token id \(bad) is outside the vocabulary 0..<\(vocab)")
        }
        guard tokens.count <= model.config.seqLen else {
            throw InferenceError(.contextFull, "the prompt has \(tokens.count) tokens, the context holds \(model.config.seqLen)")
        }
    }

    mutating func start(prompt: [Int32], parameters: GenerationParameters, model: LlamaModel) throws(InferenceError) -> Int {
        guard !prompt.isEmpty else { throw InferenceError(.invalidArgument, "the prompt is empty (start it with BOS)") }
        try check(prompt, model: model)
        var common = 0
        while !parameters.echo, common < min(history.count, prompt.count - 1), history[common] == prompt[common] { common += 1 }
        history.removeSubrange(common...)
        promptLogprobs = parameters.echo ? [nil] : []
        let vocab = model.config.vocab
        for position in common..<(prompt.count - 1) {
            decoder.forward(token: Int(prompt[position]), pos: position, pool: model.pool, computeLogits: parameters.echo)
            history.append(prompt[position])
            if parameters.echo {
                promptLogprobs.append(
                    TopLogprobs.from(logits: decoder.logits, count: vocab, chosen: prompt[position + 1], k: parameters.topLogprobs))
            }
        }
        lastLogprobs = nil
        pending = prompt[prompt.count - 1]
        self.parameters = parameters
        sampler = TokenSampler(parameters.sampling)
        generated = 0
        finished = nil
        unsent = []
        stopSequences = parameters.stopSequences.map { Array($0.utf8) }.filter { !$0.isEmpty }
        lastTokenTime = 0
        return common
    }

    mutating func next(model: LlamaModel) throws(InferenceError) -> LlamaStep {
        if let finished { return .finished(finished, trailingText: "") }
        guard let token = pending else { return finish(.maxTokens) }
        if generated >= parameters.maxTokens { return finish(.maxTokens) }
        if history.count >= model.config.seqLen { return finish(.contextFull) }
        waitForRateLimit(model.tokenRateLimit)

        decoder.forward(token: Int(token), pos: history.count, pool: model.pool, computeLogits: true)
        history.append(token)
        let vocab = model.config.vocab
        // The sampler scales the logits in place: keep the model's own for the log-probabilities.
        let original = parameters.topLogprobs > 0 ? Array(UnsafeBufferPointer(start: decoder.logits, count: vocab)) : []
        let next = sampler.sample(decoder.logits, count: vocab)
        if parameters.stopAtEndOfSequence, model.endOfGenerationIDs.contains(next) {
            return finish(.endOfSequence)
        }
        lastLogprobs = original.isEmpty ? nil : original.withUnsafeBufferPointer {
            TopLogprobs.from(logits: $0.baseAddress!, count: vocab, chosen: next, k: parameters.topLogprobs)
        }
        pending = next
        generated += 1
        unsent += model.pieceBytes(next, after: token)
        // A stop sequence in the undelivered text ends the generation before it.
        for stop in stopSequences {
            if let range = firstRange(of: stop, in: unsent) {
                let text = String(decoding: unsent[..<range.lowerBound], as: UTF8.self)
                unsent = []
                finished = .stopSequence
                return .finished(.stopSequence, trailingText: text)
            }
        }
        var release = unsent.count - heldBackSuffixLength()
        release = completeUTF8Prefix(release)
        let text = String(decoding: unsent[..<release], as: UTF8.self)
        unsent.removeSubrange(..<release)
        return .token(id: next, text: text)
    }

    mutating func finish(_ reason: LlamaStopReason) -> LlamaStep {
        lastLogprobs = nil
        let text = String(decoding: unsent, as: UTF8.self)
        unsent = []
        finished = reason
        return .finished(reason, trailingText: text)
    }

    mutating func logits(prompt: [Int32], model: LlamaModel) throws(InferenceError) -> [Float] {
        guard !prompt.isEmpty else { throw InferenceError(.invalidArgument, "the prompt is empty") }
        try check(prompt, model: model)
        reset()
        for (position, token) in prompt.enumerated() {
            decoder.forward(token: Int(token), pos: position, pool: model.pool, computeLogits: position == prompt.count - 1)
            history.append(token)
        }
        return Array(UnsafeBufferPointer(start: decoder.logits, count: model.config.vocab))
    }

    /// The longest suffix of `unsent` that is a proper prefix of some stop sequence.
    func heldBackSuffixLength() -> Int {
        var longest = 0
        for stop in stopSequences {
            var length = min(stop.count - 1, unsent.count)
            while length > longest {
                if unsent[(unsent.count - length)...].elementsEqual(stop[..<length]) { longest = length; break }
                length -= 1
            }
        }
        return longest
    }

    /// `count` shortened so that unsent[..<count] does not end inside a UTF-8 sequence.
    func completeUTF8Prefix(_ count: Int) -> Int {
        var start = count
        var back = 0
        while start > 0, back < 4 {
            start -= 1
            back += 1
            let byte = unsent[start]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return count - start >= needed ? count : start
            }
        }
        return count
    }

    func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }

    mutating func waitForRateLimit(_ limit: Double?) {
        let now = Self.seconds()
        if let limit, lastTokenTime > 0 {
            let due = lastTokenTime + 1 / limit
            if due > now {
                let delay = min(due - now, 10)
                var request = timespec(tv_sec: Int(delay), tv_nsec: Int((delay - delay.rounded(.down)) * 1e9))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
                lastTokenTime = due
                return
            }
        }
        lastTokenTime = now
    }

    static func seconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
