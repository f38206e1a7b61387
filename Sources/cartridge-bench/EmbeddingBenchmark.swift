import ArgumentParser
import CartridgeInference
#if canImport(Glibc)
import Glibc
#endif

/// Sentence-embedding throughput of the BERT encoder (all-MiniLM-L6-v2 by default) in process:
/// sentences/s at batch 1 and 32, for short sentences and for 128-token inputs, tokenization included.
struct EmbeddingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedding",
        abstract: "Sentences/s of the embedding model at batch 1 and 32, short and 128-token inputs.")

    @Option(name: .long, help: "Model directory (default: scripts/fetch-default-model.sh's cache directory).")
    var model: String?
    @Option(name: .long, help: "Worker threads (the decoder's worker pool).") var threads = 2
    @Option(name: .long, help: "Seconds per measurement (after one warm-up call).") var seconds: Double = 3

    func validate() throws {
        guard threads >= 1, threads <= 64 else { throw ValidationError("--threads must be 1...64") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        let directory = model ?? Self.defaultModelDirectory()
        let embedder = try SentenceEmbedder.load(directory: directory)
        let pool = WorkerPool(maximumWorkers: threads)
        let short = [
            "A man is eating food.", "How do I reset my password?", "The weather is lovely today.",
            "Where is the nearest train station?", "She plays the violin beautifully.", "Turn off the lights, please.",
            "Stock markets fell sharply on Monday.", "My cat sleeps all afternoon.",
        ]
        let paragraph =
            "Cartridge turns a small Linux board with a USB device port into a plug-in model stick: the device daemon "
            + "serves one read-only model image over a framed protocol, and the host library and command line tool use it "
            + "for generation, tokenization and sentence embeddings, so that semantic search and intent detection run "
            + "locally without any network connection, on whatever computer the stick is plugged into today. "
        let long = (0..<32).map { index in "\(index) " + String(repeating: paragraph, count: 2) }
        let shortTokens = short.map { embedder.tokenizer.encode($0).count }
        let longTokens = long.map { embedder.tokenizer.encode($0).count }
        print("model \(directory)")
        print("dimension \(embedder.dimension), max tokens \(embedder.maximumTokens), threads \(threads), \(seconds) s per row")
        print("short sentences: \(shortTokens.min()!)-\(shortTokens.max()!) tokens; long inputs: \(longTokens.min()!)-\(longTokens.max()!) tokens (truncated)")
        print("")
        print("The machine may be shared: CPU s is this process's user+system CPU time, so sentences per CPU second")
        print("is the figure that does not depend on other load (with 1 thread it is the unshared single-core rate).")
        print("")
        print("input   batch   sentences/s   tokens/s   ms/batch   sentences/CPU-s   GFLOP/CPU-s")
        for (name, pool0, tokens) in [("short", short, shortTokens), ("128-tok", long, longTokens)] {
            for batch in [1, 32] {
                let sentences = (0..<batch).map { pool0[$0 % pool0.count] }
                let tokenCount = (0..<batch).reduce(0) { $0 + tokens[$1 % tokens.count] }
                _ = try embedder.embed(sentences, pool: pool)
                let clock = ContinuousClock()
                let cpuStart = Self.cpuSeconds()
                let start = clock.now
                var calls = 0
                while start.duration(to: clock.now) < .milliseconds(Int(seconds * 1000)) {
                    _ = try embedder.embed(sentences, pool: pool)
                    calls += 1
                }
                let elapsed = start.duration(to: clock.now).secondsValue
                let cpu = Self.cpuSeconds() - cpuStart
                let rate = Double(calls * batch) / elapsed
                let perCPU = Double(calls * batch) / cpu
                let flops = Double(calls) * Self.flops(tokens: (0..<batch).map { tokens[$0 % tokens.count] }, embedder.encoder.config)
                print(
                    "\(name.padding(7))   \(pad(batch, 5))   \(pad(rate, 11))   \(pad(rate * Double(tokenCount) / Double(batch), 8))"
                        + "   \(pad(elapsed / Double(calls) * 1000, 8))   \(pad(perCPU, 15))   \(pad(flops / cpu / 1e9, 11))")
            }
        }
    }

    /// Multiply-adds ×2 of one forward pass: the six matrix products per layer plus attention.
    static func flops(tokens: [Int], _ config: BertConfig) -> Double {
        let h = Double(config.hiddenSize), i = Double(config.intermediateSize), layers = Double(config.layerCount)
        return tokens.reduce(0) { total, length in
            let n = Double(length)
            return total + layers * (2 * n * (4 * h * h + 2 * h * i) + 4 * n * n * h)
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func defaultModelDirectory() -> String {
        let environment = { (name: String) -> String? in getenv(name).map { String(cString: $0) } }
        let cache =
            environment("CARTRIDGE_CACHE")
            ?? ((environment("XDG_CACHE_HOME") ?? ((environment("HOME") ?? "/root") + "/.cache")) + "/cartridge")
        return cache + "/all-MiniLM-L6-v2"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
