import CartridgeGGML
import CartridgeGGUF
import CartridgeInference
import CartridgeTestSupport
import Synchronization
import Testing

/// Continuous batching, chunked prefill and the prefix cache give what one sequence alone gives.
@Suite("GenerationScheduler: batched decoding, chunked prefill, prefix cache, KV budget")
struct GenerationSchedulerTests {
    /// fp32 weights: batched and single-row products use the same dot per column, so results
    /// are identical.
    static func smallModel(seqLen: Int = 300, chunk: Int = 64) throws -> LlamaModel {
        let config = LlamaConfig(dim: 32, hiddenDim: 64, layers: 2, heads: 4, kvHeads: 2, vocab: 64, seqLen: seqLen)
        return try LlamaModel(weights: try SmallModel(config: config, seed: 5).weights(), tokenizer: nil, maximumWorkers: 2, prefillChunk: chunk)
    }

    /// Q8_0 ggml matrices (multi-column kernels when batched).
    static func quantizedModel(chunk: Int = 64, workers: Int = 2) throws -> LlamaModel {
        let bytes = try SyntheticGGUFModel.fileBytes(matrixType: .q8_0)
        let storage = ByteStorage(bytes)
        let file = try GGUFFile(bytes: storage.buffer)
        return try GGUFLlamaModel(file: file).makeModel(file: file, owner: storage, maximumWorkers: workers, prefillChunk: chunk)
    }

    static func parameters(_ maxTokens: Int, logprobs: Int = 0) -> GenerationParameters {
        GenerationParameters(maxTokens: maxTokens, stopAtEndOfSequence: false, topLogprobs: logprobs)
    }

    /// Greedy tokens (and the chosen tokens' log-probabilities) of one sequence alone, through
    /// the synchronous API.
    static func alone(_ model: LlamaModel, _ prompt: [Int32], _ maxTokens: Int) throws -> (ids: [Int32], logprobs: [Float]) {
        let session = model.makeSession()
        try session.startGeneration(promptTokens: prompt, parameters: parameters(maxTokens, logprobs: 1))
        var ids: [Int32] = [], logprobs: [Float] = []
        while case .token(let id, _) = try session.nextToken() {
            ids.append(id)
            logprobs.append(session.lastLogprobs?.logprob ?? .nan)
        }
        return (ids, logprobs)
    }

    static func scheduled(_ scheduler: GenerationScheduler, _ prompt: [Int32], _ maxTokens: Int, session: LlamaSession? = nil) async throws -> (ids: [Int32], logprobs: [Float], cached: Int) {
        let session = session ?? scheduler.model.makeSession()
        let cached = try await scheduler.start(session, prompt: prompt, parameters: parameters(maxTokens, logprobs: 1))
        defer { scheduler.end(session) }
        var ids: [Int32] = [], logprobs: [Float] = []
        while true {
            let next = try await scheduler.next(session)
            guard case .token(let id, _) = next.step else { break }
            ids.append(id)
            logprobs.append(next.logprobs?.logprob ?? .nan)
        }
        return (ids, logprobs, cached)
    }

    /// Every prompt on its own task at once; results in prompt order.
    static func concurrently(_ scheduler: GenerationScheduler, _ prompts: [[Int32]], _ maxTokens: Int) async throws -> [(ids: [Int32], logprobs: [Float])] {
        try await withThrowingTaskGroup(of: (Int, [Int32], [Float]).self) { group in
            for (index, prompt) in prompts.enumerated() {
                group.addTask {
                    let result = try await scheduled(scheduler, prompt, maxTokens)
                    return (index, result.ids, result.logprobs)
                }
            }
            var results = [(ids: [Int32], logprobs: [Float])](repeating: ([], []), count: prompts.count)
            for try await (index, ids, logprobs) in group { results[index] = (ids, logprobs) }
            return results
        }
    }

    static func prompt(_ count: Int, seed: Int32, vocab: Int) -> [Int32] {
        var tokens: [Int32] = [1]
        for index in 1..<count {
            let value: Int = (index * 7 + Int(seed) * 13) % (vocab - 3) + 3
            tokens.append(Int32(value))
        }
        return tokens
    }

    @Test("four concurrent streams each give what they give alone (fp32 exactly, Q8_0 within 1e-3)", arguments: ["fp32", "q8_0"])
    func fourStreams(kind: String) async throws {
        let model = kind == "fp32" ? try Self.smallModel() : try Self.quantizedModel()
        let vocab = model.config.vocab
        let prompts = (0..<4).map { Self.prompt(5 + $0 * 9, seed: Int32($0), vocab: vocab) }
        let expected = try prompts.map { try Self.alone(model, $0, 24) }
        let scheduler = GenerationScheduler(model: model)
        let results = try await Self.concurrently(scheduler, prompts, 24)
        for index in 0..<4 {
            #expect(results[index].ids == expected[index].ids, "stream \(index): batched tokens differ from alone")
            #expect(results[index].ids.count == 24)
            for (a, b) in zip(results[index].logprobs, expected[index].logprobs) {
                if kind == "fp32" { #expect(a == b, "stream \(index): logprob \(a) vs \(b)") } else { #expect(abs(a - b) <= 1e-3, "stream \(index): logprob \(a) vs \(b)") }
            }
        }
        let statistics = scheduler.currentStatistics
        #expect(statistics.widestStep >= 2, "the streams were never batched: \(statistics)")
        #expect(statistics.decodeRows == 4 * 24)
        #expect(scheduler.kvBytesInUse == scheduler.prefixCacheBytesInUse, "ended streams still hold KV reservations")
    }

    /// Decoding steps of at most 4 rows on several workers have each worker quantize (and
    /// normalize) the step's input itself (`DecoderState.product`); one worker takes the shared
    /// path. Both must give the same values bit for bit: one stream and four, tokens and
    /// log-probabilities.
    @Test("one worker and two give the same tokens and log-probabilities bit for bit, one stream and four")
    func workersGiveIdenticalDecodes() async throws {
        let one = try Self.quantizedModel(workers: 1), two = try Self.quantizedModel(workers: 2)
        #expect(one.workerCount == 1 && two.workerCount == 2)
        let vocab = one.config.vocab
        let prompts = (0..<4).map { Self.prompt(4 + $0 * 7, seed: Int32(10 + $0), vocab: vocab) }
        for prompt in prompts {
            let a = try Self.alone(one, prompt, 16), b = try Self.alone(two, prompt, 16)
            #expect(a.ids == b.ids)
            #expect(a.logprobs == b.logprobs, "one stream: \(a.logprobs) vs \(b.logprobs)")
        }
        let batchedOne = try await Self.concurrently(GenerationScheduler(model: one), prompts, 16)
        let batchedTwo = try await Self.concurrently(GenerationScheduler(model: two), prompts, 16)
        for index in 0..<4 {
            #expect(batchedOne[index].ids == batchedTwo[index].ids, "stream \(index)")
            #expect(batchedOne[index].logprobs == batchedTwo[index].logprobs, "stream \(index): \(batchedOne[index].logprobs) vs \(batchedTwo[index].logprobs)")
        }
    }

    @Test("chunked prefill equals unchunked (chunks of 1, 7 and 64 positions)", arguments: ["fp32", "q8_0"])
    func chunkedPrefill(kind: String) throws {
        var logits: [[Float]] = []
        for chunk in [1, 7, 64] {
            let model = kind == "fp32" ? try Self.smallModel(chunk: chunk) : try Self.quantizedModel(chunk: chunk)
            let prompt = Self.prompt(150, seed: 3, vocab: model.config.vocab)
            logits.append(try model.makeSession().logits(forPrompt: prompt))
            #expect(try Self.alone(model, prompt, 8).ids == Self.alone(try Self.smallModelLike(kind), prompt, 8).ids)
        }
        for other in logits.dropFirst() {
            let worst = zip(logits[0], other).map { abs($0 - $1) }.max() ?? .infinity
            if kind == "fp32" { #expect(worst == 0, "chunked logits differ by \(worst)") } else { #expect(worst <= 1e-3, "chunked logits differ by \(worst)") }
        }
        #expect(logits[0].contains { $0 != 0 })
    }

    static func smallModelLike(_ kind: String) throws -> LlamaModel {
        kind == "fp32" ? try smallModel(chunk: 1) : try quantizedModel(chunk: 1)
    }

    @Test("a cancel during a 2,000-token prefill stops it between layers; the session works afterwards")
    func cancelDuringPrefill() async throws {
        let model = try Self.smallModel(seqLen: 2100, chunk: 16)
        let scheduler = GenerationScheduler(model: model)
        let session = model.makeSession()
        // The host's CANCEL arrives once the prefill is under way: the flag turns true at the
        // scheduler's 20th look, inside the first chunks (deterministic, unlike a timer on a
        // loaded machine). The daemon's end-to-end test sends a real CANCEL frame.
        let looks = Atomic<Int>(0)
        let long = Self.prompt(2000, seed: 9, vocab: model.config.vocab)
        let task = Task {
            try await scheduler.start(
                session, prompt: long, parameters: Self.parameters(4),
                isCancelled: { looks.wrappingAdd(1, ordering: .relaxed).newValue >= 20 })
        }
        await #expect(throws: InferenceError.self) { try await task.value }
        let statistics = scheduler.currentStatistics
        #expect(statistics.cancelledPrefills == 1)
        #expect(statistics.prefillRows < 1999, "the whole prompt ran before the cancel took effect")
        #expect(scheduler.kvBytesInUse == scheduler.prefixCacheBytesInUse, "the cancelled generation's KV reservation was not released")
        // The same session then generates exactly what a fresh one does.
        let short = Self.prompt(20, seed: 4, vocab: model.config.vocab)
        #expect(try await Self.scheduled(scheduler, short, 10, session: session).ids == Self.alone(model, short, 10).ids)
    }

    @Test("a prefix-cache hit gives the same output as a cold run")
    func prefixCache() async throws {
        for kind in ["fp32", "q8_0"] {
            let model = kind == "fp32" ? try Self.smallModel() : try Self.quantizedModel()
            let system = Self.prompt(60, seed: 5, vocab: model.config.vocab)
            let first = system + [7, 8, 9, 10]
            let second = system + [11, 12, 13]
            let warm = GenerationScheduler(model: model)
            _ = try await Self.scheduled(warm, first, 6)
            let hit = try await Self.scheduled(warm, second, 12)
            #expect(warm.currentStatistics.prefixHits == 1)
            #expect(hit.cached >= system.count, "\(kind): only \(hit.cached) prompt tokens came from the prefix cache")
            let cold = GenerationScheduler(model: model, prefixCacheBytes: 0)
            let coldRun = try await Self.scheduled(cold, second, 12)
            #expect(cold.currentStatistics.prefixHits == 0 && coldRun.cached == 0)
            #expect(hit.ids == coldRun.ids, "\(kind): prefix-cache hit changed the output")
            #expect(hit.ids == (try Self.alone(model, second, 12)).ids)
        }
    }

    @Test("a session ended mid-stream and started again at once gives exactly the new generation (20 times)")
    func endAndRestart() async throws {
        let model = try Self.smallModel()
        let scheduler = GenerationScheduler(model: model)
        let session = model.makeSession()
        let other = model.makeSession()
        let fresh = Self.prompt(12, seed: 6, vocab: model.config.vocab)
        let expected = try Self.alone(model, fresh, 10).ids
        // A second stream keeps the step loop busy, so the end often lands while a step runs.
        try await scheduler.start(other, prompt: [1, 9, 9], parameters: Self.parameters(10_000))
        for round in 0..<20 {
            try await scheduler.start(session, prompt: Self.prompt(8 + round, seed: Int32(round), vocab: model.config.vocab), parameters: Self.parameters(10_000))
            _ = try await scheduler.next(session)
            scheduler.end(session)
            let again = try await Self.scheduled(scheduler, fresh, 10, session: session)
            #expect(again.ids == expected, "round \(round): the ended generation leaked into the new one")
        }
        scheduler.end(other)
    }

    @Test("the KV budget refuses a generation that does not fit (busy) and admits it once another ends")
    func kvBudget() async throws {
        let model = try Self.smallModel()
        let perPosition = 2 * model.config.layers * model.config.kvDim * 4
        let scheduler = GenerationScheduler(model: model, kvBudgetBytes: 100 * perPosition, prefixCacheBytes: 0)
        let first = model.makeSession()
        try await scheduler.start(first, prompt: [1, 2, 3], parameters: Self.parameters(60))
        #expect(scheduler.kvBytesInUse == 63 * perPosition)
        let second = model.makeSession()
        await #expect { try await scheduler.start(second, prompt: [1, 2, 3], parameters: Self.parameters(60)) } throws: {
            ($0 as? InferenceError)?.code == .busy
        }
        scheduler.end(first)
        // What stays is the history `first` keeps for a next request (prompt and tokens run so far).
        #expect(scheduler.kvBytesInUse == first.history.count * perPosition)
        #expect(scheduler.keptSessionBytes == first.history.count * perPosition)
        try await scheduler.start(second, prompt: [1, 2, 3], parameters: Self.parameters(60))
        scheduler.end(second)
    }

    @Test("an idle session's history counts against the KV budget; a generation that needs the room evicts it, and its next request runs cold with the same tokens")
    func keptHistoryIsAccountedAndEvicted() async throws {
        let model = try Self.smallModel()
        let perPosition = 2 * model.config.layers * model.config.kvDim * 4
        let scheduler = GenerationScheduler(model: model, kvBudgetBytes: 100 * perPosition, prefixCacheBytes: 0)
        let prompt: [Int32] = [3, 9, 27, 17, 51, 25, 11, 33, 35, 41]

        // A conversation: the first answer, then a follow-up that extends it.
        var conversation: LlamaSession? = model.makeSession()
        let first = try await Self.scheduled(scheduler, prompt, 20, session: conversation)
        let kept = conversation!.history.count
        #expect(kept >= prompt.count + first.ids.count - 1)
        #expect(scheduler.keptSessionBytes == kept * perPosition)
        #expect(scheduler.kvBytesInUse == kept * perPosition)
        let followUp = prompt + first.ids + [7, 8]
        let warm = try await Self.scheduled(scheduler, followUp, 10, session: conversation)
        #expect(warm.cached == kept, "the kept history is reused")

        // Another generation needs 90 of the 100 positions: the idle conversation is evicted.
        let other = model.makeSession()
        try await scheduler.start(other, prompt: Array(prompt.reversed()), parameters: Self.parameters(80))
        #expect(conversation!.history.isEmpty, "the idle session forgot its cache")
        #expect(scheduler.currentStatistics.evictedSessionCaches == 1)
        #expect(scheduler.keptSessionBytes == 0)
        scheduler.end(other)

        // Its next request runs the whole prompt and gives what the prompt gives alone.
        let cold = try await Self.scheduled(scheduler, followUp, 10, session: conversation)
        #expect(cold.cached == 0)
        #expect(cold.ids == (try Self.alone(model, followUp, 10)).ids)
        #expect(cold.ids == warm.ids)

        // A session that is gone holds nothing.
        #expect(scheduler.keptSessionBytes > 0)
        conversation = nil
        #expect(scheduler.keptSessionBytes == other.history.count * perPosition)
    }

    @Test("the model's tokens/s cap (power throttle) holds for every stream under the scheduler")
    func rateCap() async throws {
        let model = try Self.smallModel()
        let scheduler = GenerationScheduler(model: model)
        let uncapped = ContinuousClock.now
        let free = try await Self.scheduled(scheduler, [1, 2, 3], 11)
        let freeTime = uncapped.duration(to: .now)
        model.tokenRateLimit = 40
        let capped = ContinuousClock.now
        let results = try await Self.concurrently(scheduler, [[1, 2, 3], [1, 4, 5]], 11)
        let elapsed = capped.duration(to: .now)
        // 11 tokens per stream at 40 tok/s: at least 10 intervals of 25 ms each (the first is free).
        #expect(elapsed >= .milliseconds(240), "two capped streams of 11 tokens took \(elapsed) (uncapped: \(freeTime))")
        #expect(results[0].ids == free.ids, "the cap changed the tokens")
        #expect(results.allSatisfy { $0.ids.count == 11 })
    }

    @Test("SmolLM2: four concurrent chat streams give the greedy tokens each gives alone")
    func smolLM2FourStreams() async throws {
        guard let path = DefaultChatModel.path else {
            print("skipping SmolLM2 batched decoding: \(DefaultChatModel.skipReason)")
            return
        }
        let file = try MappedFile(path: path)
        let gguf = try GGUFFile(bytes: file.bytes)
        let model = try GGUFLlamaModel(file: gguf).makeModel(file: gguf, owner: file, maximumWorkers: 2)
        let questions = ["What is the capital of France?", "Name a primary colour.", "What is 2 + 2?", "Say hello in Spanish."]
        let prompts = try questions.map { try model.promptTokens(for: "<|im_start|>user\n\($0)<|im_end|>\n<|im_start|>assistant\n") }
        let expected = try prompts.map { try Self.alone(model, $0, 12) }
        let scheduler = GenerationScheduler(model: model)
        let results = try await Self.concurrently(scheduler, prompts, 12)
        for index in 0..<4 {
            #expect(results[index].ids == expected[index].ids, "\(questions[index]): batched tokens differ")
            for (a, b) in zip(results[index].logprobs, expected[index].logprobs) {
                let difference: Float = abs(a - b)
                #expect(difference <= 2e-3, "\(questions[index]): logprob \(a) vs \(b)")
            }
        }
        #expect(scheduler.currentStatistics.widestStep >= 2)
    }
}

/// Heap bytes that outlive the GGUF file views into them.
final class ByteStorage: Sendable {
    nonisolated(unsafe) let buffer: UnsafeRawBufferPointer
    init(_ bytes: [UInt8]) {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        raw.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: bytes.count))
        buffer = UnsafeRawBufferPointer(rebasing: raw[0..<bytes.count])
    }
    deinit { UnsafeMutableRawBufferPointer(mutating: buffer).deallocate() }
}
