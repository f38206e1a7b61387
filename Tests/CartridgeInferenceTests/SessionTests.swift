import CartridgeInference
import Testing

@Suite("LlamaSession")
struct SessionTests {
    static let config = LlamaConfig(dim: 32, hiddenDim: 64, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seqLen: 40)

    static func model(_ config: LlamaConfig = config, tokenizer: LlamaTokenizer? = nil) throws -> LlamaModel {
        try LlamaModel(weights: try SmallModel(config: config, seed: 5).weights(), tokenizer: tokenizer, maximumWorkers: 2)
    }

    /// All steps until `.finished`.
    static func drain(_ session: LlamaSession) throws -> (ids: [Int32], text: String, reason: LlamaStopReason) {
        var ids: [Int32] = []
        var text = ""
        while true {
            switch try session.nextToken() {
            case .token(let id, let piece):
                ids.append(id)
                text += piece
            case .finished(let reason, let trailing):
                return (ids, text + trailing, reason)
            }
        }
    }

    static let noEOS = GenerationParameters(maxTokens: 12, stopAtEndOfSequence: false)

    @Test("a follow-up prompt extending the history reuses the cache and gives the same tokens")
    func cacheReuse() throws {
        let model = try Self.model()
        let session = model.makeSession()
        #expect(try session.startGeneration(promptTokens: [1, 7, 9], parameters: Self.noEOS) == 0)
        let first = try Self.drain(session)
        #expect(first.reason == .maxTokens && first.ids.count == 12)
        // History: prompt + all generated tokens except the last (not yet run).
        #expect(session.history == [1, 7, 9] + first.ids.dropLast())
        let followUp: [Int32] = [1, 7, 9] + first.ids + [3, 4]
        #expect(try session.startGeneration(promptTokens: followUp, parameters: Self.noEOS) == 2 + first.ids.count)
        let continued = try Self.drain(session)
        let fresh = model.makeSession()
        #expect(try fresh.startGeneration(promptTokens: followUp, parameters: Self.noEOS) == 0)
        #expect(try Self.drain(fresh).ids == continued.ids)
        // A prompt that diverges early keeps only the common prefix.
        #expect(try session.startGeneration(promptTokens: [1, 7, 10], parameters: Self.noEOS) == 2)
    }

    @Test("the context window ends a generation; prompts that do not fit are refused")
    func contextFull() throws {
        let model = try Self.model()
        let session = model.makeSession()
        try session.startGeneration(promptTokens: [1, 2, 3], parameters: GenerationParameters(maxTokens: 1000, stopAtEndOfSequence: false))
        let result = try Self.drain(session)
        #expect(result.reason == .contextFull)
        #expect(result.ids.count == Self.config.seqLen - 2)
        #expect(try session.nextToken() == .finished(.contextFull, trailingText: ""))
        #expect { try session.startGeneration(promptTokens: [Int32](repeating: 5, count: 41), parameters: Self.noEOS) }
            throws: { ($0 as? InferenceError)?.code == .contextFull }
        #expect { try session.startGeneration(promptTokens: [1, 64], parameters: Self.noEOS) }
            throws: { ($0 as? InferenceError)?.code == .invalidArgument }
        #expect { try session.startGeneration(promptTokens: [], parameters: Self.noEOS) }
            throws: { ($0 as? InferenceError)?.code == .invalidArgument }
    }

    @Test("sampling: a seed reproduces, top-k 1 is greedy, knobs are settable while idle or running")
    func sampling() throws {
        let model = try Self.model()
        func run(_ sampling: SamplingParameters) throws -> [Int32] {
            let session = model.makeSession()
            try session.startGeneration(promptTokens: [1, 3], parameters: GenerationParameters(sampling: sampling, maxTokens: 20, stopAtEndOfSequence: false))
            return try Self.drain(session).ids
        }
        let hot = SamplingParameters(temperature: 1.5, topP: 0.95, seed: 1234)
        #expect(try run(hot) == run(hot))
        var other = hot
        other.seed = 99
        #expect(try run(hot) != run(other))
        #expect(try run(SamplingParameters(temperature: 1, topP: 0, topK: 1, seed: 5)) == run(.greedy))
        #expect(try run(SamplingParameters(temperature: 0.8, topP: 0, topK: 5, seed: 5)) == run(SamplingParameters(temperature: 0.8, topP: 0, topK: 5, seed: 5)))
        model.setTokenRateLimit(1000)
        #expect(model.tokenRateLimit == 1000)
        model.setTokenRateLimit(nil)
        #expect(model.tokenRateLimit == nil)
        model.setWorkerCount(7)
        #expect(model.workerCount == 2)
        model.setWorkerCount(1)
        #expect(model.workerCount == 1)
    }

    @Test("stop sequences end the generation; the text before them is delivered, the stop text is not",
          .enabled(if: SharedModels.llama2Tokenizer != nil, Comment(rawValue: SharedModels.missingReason)))
    func stopSequences() throws {
        let tokenizer = try LlamaTokenizer(path: try #require(SharedModels.llama2Tokenizer), vocabSize: 32000)
        let config = LlamaConfig(dim: 16, hiddenDim: 32, layers: 1, heads: 2, kvHeads: 2, vocab: 32000, seqLen: 64)
        let model = try Self.model(config, tokenizer: tokenizer)
        let prompt = try model.tokenize("Once upon a time")
        let session = model.makeSession()
        try session.startGeneration(promptTokens: prompt, parameters: GenerationParameters(maxTokens: 30, stopAtEndOfSequence: false))
        let full = try Self.drain(session)
        #expect(full.text == tokenizer.decode(full.ids, after: prompt.last))
        // Stop on a piece of text that spans the 6th and 7th tokens.
        let before = tokenizer.decode(Array(full.ids.prefix(5)), after: prompt.last)
        let upTo7 = tokenizer.decode(Array(full.ids.prefix(7)), after: prompt.last)
        let stop = String(upTo7.dropFirst(before.count).dropFirst(max(0, upTo7.count - before.count - 3)))
        try #require(!stop.isEmpty)
        try session.startGeneration(promptTokens: prompt, parameters: GenerationParameters(maxTokens: 30, stopAtEndOfSequence: false, stopSequences: [stop]))
        let stopped = try Self.drain(session)
        #expect(stopped.reason == .stopSequence)
        let expected = String(full.text[..<full.text.firstRange(of: stop)!.lowerBound])
        #expect(stopped.text == expected)
    }
}
