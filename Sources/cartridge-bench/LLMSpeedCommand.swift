import ArgumentParser
import CartridgeImage
import CartridgeInference
import CartridgeTokenizers
import Foundation

/// `cartridge-bench llm speed`: this engine alone on a GGUF file, measured the way llama-bench
/// measures llama.cpp, in this process.
///
/// - pp: `logits(forPrompt:)` of a P-token prompt (BOS, then deterministic pseudo-random ids in
///   the vocabulary, like llama-bench's random prompt) from position 0 of an empty history.
/// - tg: N greedy tokens after a lone BOS (llama-bench decodes N single tokens from an empty
///   context), `stopAtEndOfSequence: false`, so exactly N forward passes are timed.
///
/// - `--sequences 1,4`: tg of N concurrent greedy generations through `GenerationScheduler` (the
///   step loop `cartridged` runs: one decode row per sequence per step), N × tokens ÷ wall time,
///   with no sockets or clients in the way: the engine's own N-stream aggregate and its N/1 ratio.
///
/// One untimed warm-up of each test first (page cache, KV pages, worker threads), then
/// `--repeats` timed runs on the same session (each run starts again from position 0).
struct LLMSpeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speed",
        abstract: "Prompt processing (pp) and token generation (tg) tok/s of this engine on a GGUF file, llama-bench style.")

    @Option(help: "GGUF model file.") var model: String
    @Option(name: [.customShort("t"), .long], help: "Worker threads.") var threads = 1
    @Option(name: [.customShort("p"), .customLong("n-prompt")], help: "Prompt tokens of the pp test (0 skips it).") var promptTokens = 128
    @Option(name: [.customShort("n"), .customLong("n-gen")], help: "Generated tokens of the tg test (0 skips it).") var generatedTokens = 128
    @Option(name: [.customShort("r"), .long], help: "Timed runs of each test (after one warm-up).") var repeats = 5
    @Option(
        name: [.customShort("d"), .customLong("n-depth")],
        help: "Tokens already in the KV cache before each tg run (run untimed first, as llama-bench -d; the tg test only, not --sequences).")
    var depth = 0
    @Option(help: "KV-cache element type: q16 (cartridged's default for GGUF), f32 or f16.") var kvCacheType: KVCacheType?
    @Option(help: "Also: tg of N concurrent sequences through the scheduler, for each N of this comma-separated list (e.g. 1,4).")
    var sequences: String?
    @Flag(help: "Print one JSON object (LLMSpeedReport) instead of text.") var json = false
    @Flag(help: .hidden) var readBandwidth = false

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1...64") }
        guard promptTokens >= 0, generatedTokens >= 0, promptTokens + generatedTokens > 0 else {
            throw ValidationError("-p and -n must be >= 0 and not both 0")
        }
        guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be 1...1000") }
        guard depth >= 0 else { throw ValidationError("--n-depth must be >= 0") }
        guard (try? sequenceCounts()) != nil else { throw ValidationError("--sequences: a comma-separated list of counts 1...64") }
    }

    func sequenceCounts() throws -> [Int] {
        guard let sequences else { return [] }
        let counts = sequences.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0.map { (1...64).contains($0) } ?? false }) else { throw ValidationError("--sequences") }
        var seen = Set<Int>()
        return counts.compactMap { $0 }.filter { seen.insert($0).inserted }
    }

    func run() async throws {
        if readBandwidth {
            // Used by `llm compare` for its roofline column, in a child so the parent's RSS stays small.
            print("read_bandwidth_gbs \(ReadBandwidth.measure(threads: 1)) \(ReadBandwidth.measure(threads: 2))")
            return
        }
        let clock = ContinuousClock()
        let loadStart = clock.now
        let source = try GGUFImage.open(ggufPath: model)
        let llama = try source.model.withKVCache(kvCacheType)
            .makeModel(file: source.file, owner: source.mapping, maximumWorkers: threads)
        let loadMilliseconds = Self.seconds(clock.now - loadStart) * 1000
        let vocab = llama.config.vocab
        let bos = llama.tokenizer?.bosID
        guard promptTokens <= llama.config.seqLen, depth + generatedTokens + 1 <= llama.config.seqLen else {
            throw ValidationError("-p, and -d with -n, must fit the context of \(llama.config.seqLen) positions")
        }
        let session = llama.makeSession()

        var promptSamples: [Double] = []
        if promptTokens > 0 {
            let prompt = Self.benchmarkPrompt(count: promptTokens, vocabulary: vocab, bos: bos)
            _ = try session.logits(forPrompt: prompt)  // warm-up
            for _ in 0..<repeats {
                let started = clock.now
                _ = try session.logits(forPrompt: prompt)
                promptSamples.append(Double(promptTokens) / Self.seconds(clock.now - started))
            }
        }

        var generationSamples: [Double] = []
        if generatedTokens > 0 {
            let start = bos ?? Self.benchmarkPrompt(count: 1, vocabulary: vocab, bos: nil)[0]
            // The context already in the cache (llama-bench -d): prefilled untimed before each run;
            // the timed generation then extends it (its prompt's cached prefix is reused).
            let context = depth > 0 ? Self.benchmarkPrompt(count: depth, vocabulary: vocab, bos: bos) : []
            _ = try Self.generate(session: session, context: context, start: start, tokens: min(generatedTokens, 16))  // warm-up
            for _ in 0..<repeats {
                if !context.isEmpty { _ = try session.logits(forPrompt: context) }
                let started = clock.now
                let produced = try Self.generate(session: session, context: context, start: start, tokens: generatedTokens)
                let elapsed = Self.seconds(clock.now - started)
                guard produced == generatedTokens else {
                    throw ValidationError("generation stopped after \(produced) of \(generatedTokens) tokens")
                }
                generationSamples.append(Double(produced) / elapsed)
            }
        }

        var batchedLines: [String] = []
        let counts = try sequenceCounts()
        if !counts.isEmpty, generatedTokens > 0 {
            let scheduler = GenerationScheduler(model: llama)
            let start = bos ?? Self.benchmarkPrompt(count: 1, vocabulary: vocab, bos: nil)[0]
            let sessions = (0..<(counts.max() ?? 1)).map { _ in llama.makeSession() }
            _ = try await Self.generate(scheduler: scheduler, sessions: sessions, start: start, tokens: 16)  // warm-up
            var samples: [Int: [Double]] = [:]
            for _ in 0..<repeats {
                for count in counts {  // interleaved: each repeat runs every count once
                    let started = clock.now
                    let produced = try await Self.generate(scheduler: scheduler, sessions: Array(sessions.prefix(count)), start: start, tokens: generatedTokens)
                    let elapsed = Self.seconds(clock.now - started)
                    guard produced == count * generatedTokens else {
                        throw ValidationError("\(count) sequences produced \(produced) of \(count * generatedTokens) tokens")
                    }
                    samples[count, default: []].append(Double(produced) / elapsed)
                }
            }
            let medians = samples.mapValues { LLMSpeedReport.median($0) ?? 0 }
            for count in counts {
                let median = medians[count] ?? 0
                let ratio = medians[counts[0]].map { median / $0 } ?? 0
                batchedLines.append(
                    "tg\(generatedTokens) × \(count) sequences (scheduler): \((samples[count] ?? []).map { Self.format($0, digits: 1) }.joined(separator: ", ")) tok/s; "
                        + "median \(Self.format(median, digits: 1)) tok/s aggregate, \(Self.format(ratio, digits: 2))× \(counts[0]) sequence(s)")
            }
        }

        let report = LLMSpeedReport(
            model: model, threads: threads, promptTokens: promptTokens, generatedTokens: generatedTokens,
            promptSamples: promptSamples, generationSamples: generationSamples,
            peakResidentKilobytes: ChildProcess.ownPeakKilobytes(), weightBytesPerToken: llama.weightBytesPerToken,
            loadMilliseconds: loadMilliseconds)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("\(model): \(threads) thread(s), load \(Self.format(loadMilliseconds)) ms, \(llama.weightBytesPerToken) weight bytes per token")
        for (name, samples, median) in [
            ("pp\(promptTokens)", promptSamples, report.promptMedian),
            ("tg\(generatedTokens)" + (depth > 0 ? " @ d\(depth)" : ""), generationSamples, report.generationMedian),
        ] {
            guard let median else { continue }
            print("\(name): \(samples.map { Self.format($0, digits: 1) }.joined(separator: ", ")) tok/s; median \(Self.format(median, digits: 1)) tok/s")
        }
        for line in batchedLines { print(line) }
        print("peak RSS (VmHWM): \(Self.format(Double(report.peakResidentKilobytes) / 1024, digits: 1)) MiB")
    }

    /// `tokens` greedy tokens after `start` on each of `sessions` at once, through `scheduler`;
    /// returns all tokens produced.
    static func generate(scheduler: GenerationScheduler, sessions: [LlamaSession], start: Int32, tokens: Int) async throws -> Int {
        let parameters = GenerationParameters(sampling: SamplingParameters(temperature: 0), maxTokens: tokens, stopAtEndOfSequence: false)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for session in sessions {
                group.addTask {
                    try await scheduler.start(session, prompt: [start], parameters: parameters)
                    defer { scheduler.end(session) }
                    var produced = 0
                    while case .token = try await scheduler.next(session).step { produced += 1 }
                    return produced
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// Greedy tokens after `context` (already in the session's cache, or empty) and `start`;
    /// returns how many were produced.
    static func generate(session: LlamaSession, context: [Int32] = [], start: Int32, tokens: Int) throws -> Int {
        try session.startGeneration(
            promptTokens: context + [start],
            parameters: GenerationParameters(sampling: SamplingParameters(temperature: 0), maxTokens: tokens, stopAtEndOfSequence: false))
        var produced = 0
        while true {
            switch try session.nextToken() {
            case .token: produced += 1
            case .finished: return produced
            }
        }
    }

    /// BOS (when the vocabulary has one), then pseudo-random ids in 0..<vocabulary from a fixed
    /// seed (SplitMix64), the same for every run: llama-bench's random-prompt test.
    static func benchmarkPrompt(count: Int, vocabulary: Int, bos: Int32?) -> [Int32] {
        var state: UInt64 = 0x5eed_1234_abcd_0042
        var ids: [Int32] = []
        ids.reserveCapacity(count)
        if let bos, count > 0 { ids.append(bos) }
        while ids.count < count {
            state &+= 0x9e37_79b9_7f4a_7c15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
            mixed ^= mixed >> 31
            ids.append(Int32(mixed % UInt64(vocabulary)))
        }
        return ids
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double, digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
}
