import ArgumentParser
import CartridgeGGML
import CartridgeInference
import Foundation

/// `cartridge-bench llm compare`: llama.cpp (llama-bench) and this engine (`llm speed` in a child)
/// on the same GGUF files, the same thread counts and the same pp/tg sizes, every measurement a
/// fresh child process, interleaved round by round (llama-bench pp, cartridge pp, llama-bench tg,
/// cartridge tg, then the next round) so slow phases of a shared machine hit both engines.
/// Ratios are taken round by round (cartridge / llama.cpp of the same round), then their median.
/// Peak RSS of each child is wait4's ru_maxrss for both engines.
///
/// With `--streams 1,2,4` it measures multi-stream throughput instead (see
/// `StreamThroughputComparison`): `cartridged` against `llama-server -np N`.
struct LLMSpeedComparison: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "This engine against llama.cpp on the same GGUF files: tg/pp tok/s, ratio, GB/s, peak RSS (or --streams: aggregate tok/s).")

    @Option(help: "llama-bench binary (llama.cpp build, see docs/PERFORMANCE.md).") var llamaBench: String?
    @Option(name: .customLong("model"), parsing: .upToNextOption, help: "GGUF model files (one or more).") var models: [String]
    @Option(help: "Thread counts, comma separated.") var threads = "1,2"
    @Option(name: [.customShort("r"), .long], help: "Repetitions inside each child (llama-bench -r, llm speed -r).") var repeats = 5
    @Option(help: "Interleaved rounds (each round: a fresh child per engine and test).") var rounds = 3
    @Option(name: [.customShort("p"), .customLong("n-prompt")], help: "Prompt tokens of the pp test (0 skips it).") var promptTokens = 128
    @Option(name: [.customShort("n"), .customLong("n-gen")], help: "Generated tokens of the tg test (0 skips it).") var generatedTokens = 128
    @Option(
        name: [.customShort("d"), .customLong("n-depth")],
        help: "Tokens already in the KV cache before each tg run, for both engines (llama-bench -d, llm speed -d); pp runs from an empty cache.")
    var depth = 0
    @Option(help: "Single-thread DRAM read bandwidth, GB/s, for the roofline column (default: measured in a child now).") var bandwidth1: Double?
    @Option(help: "Two-thread DRAM read bandwidth, GB/s (default: measured in a child now).") var bandwidth2: Double?
    @Flag(help: "Skip the bandwidth measurement and the roofline column.") var noRoofline = false
    @Option(help: "The cartridge's KV-cache type: q16 (its default), f32 or f16 (llama-bench keeps its own default, f16: it has no f32 or q16 cache type).") var kvCacheType: KVCacheType?

    @Option(help: "Streams mode: concurrent client counts, comma separated (1 is always measured, for the scaling column).") var streams: String?
    @Option(help: "Streams mode: llama-server binary.") var llamaServer: String?
    @Option(help: "Streams mode: cartridged binary (default: beside this executable).") var cartridged: String?
    @Option(help: "Streams mode: tokens each client asks for (greedy).") var streamTokens = 128
    @Option(help: "Streams mode: llama-server context per slot (-c is this times the stream count).") var slotContext = 1024
    @Option(help: "Streams mode: first TCP port for llama-server (one per run, counting up).") var port = 18_480

    @Flag(help: "First-token mode: time to first token of a ~200-token chat prompt, cold and with the system prompt cached, against llama-server -np 1 (needs --llama-server), and CANCEL latency during a long prefill.") var firstToken = false
    @Option(help: "Directory for child outputs and the cartridged socket.") var workDirectory = "/tmp/cartridge-llm-compare"

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("give at least one --model FILE") }
        guard !threadCounts.isEmpty, threadCounts.allSatisfy({ (1...64).contains($0) }) else { throw ValidationError("--threads: a list of 1...64") }
        guard (1...1000).contains(repeats), (1...100).contains(rounds) else { throw ValidationError("--repeats 1...1000, --rounds 1...100") }
        guard promptTokens >= 0, generatedTokens >= 0, promptTokens + generatedTokens > 0 else { throw ValidationError("-p and -n: >= 0, not both 0") }
        guard depth >= 0, depth == 0 || (streams == nil && !firstToken) else { throw ValidationError("-d: >= 0, and only for the pp/tg comparison") }
        if firstToken {
            guard llamaServer != nil else { throw ValidationError("--first-token needs --llama-server PATH") }
        } else if let streams {
            let counts = streams.split(separator: ",").compactMap { Int($0) }
            guard !counts.isEmpty, counts.allSatisfy({ (1...64).contains($0) }) else { throw ValidationError("--streams: a list of 1...64") }
            guard llamaServer != nil else { throw ValidationError("--streams needs --llama-server PATH") }
            guard (1...4096).contains(streamTokens), slotContext > streamTokens + 64 else {
                throw ValidationError("--stream-tokens 1...4096 and --slot-context > stream tokens + 64")
            }
        } else {
            guard llamaBench != nil else { throw ValidationError("give --llama-bench PATH (or --streams with --llama-server)") }
        }
        for model in models where !FileManager.default.fileExists(atPath: model) { throw ValidationError("no such model file: \(model)") }
    }

    var threadCounts: [Int] { threads.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        if firstToken {
            let comparison = FirstTokenComparison(
                models: models, threadCounts: threadCounts, rounds: rounds, llamaServer: llamaServer!,
                cartridged: cartridged ?? Self.sibling("cartridged"), firstPort: port, workDirectory: workDirectory)
            try await comparison.run()
            return
        }
        if let streams {
            let counts = Array(Set(streams.split(separator: ",").compactMap { Int($0) } + [1])).sorted()
            let comparison = StreamThroughputComparison(
                models: models, threadCounts: threadCounts, streamCounts: counts, rounds: rounds, tokensPerStream: streamTokens,
                llamaServer: llamaServer!, cartridged: cartridged ?? Self.sibling("cartridged"), slotContext: slotContext,
                firstPort: port, workDirectory: workDirectory)
            try await comparison.run()
            return
        }
        try compareSpeed(llamaBench: llamaBench!)
    }

    /// One round's measurement of one engine: the median of its repetitions, and the child's peak RSS.
    struct Measurement {
        var rate: Double
        var peakKilobytes: Int
    }

    /// Everything measured for one model at one thread count.
    struct Row {
        var model: String
        var threads: Int
        var llamaGeneration: [Measurement] = []
        var oursGeneration: [Measurement] = []
        var llamaPrompt: [Measurement] = []
        var oursPrompt: [Measurement] = []
        var weightBytesPerToken = 0
        var llamaModelSize = 0
        var llamaCommit = ""
    }

    func compareSpeed(llamaBench: String) throws {
        let conditions = Self.conditions()
        var bandwidth: (one: Double, two: Double)?
        if !noRoofline {
            if let bandwidth1, let bandwidth2 {
                bandwidth = (bandwidth1, bandwidth2)
            } else {
                let measured = try measureBandwidth()
                bandwidth = (bandwidth1 ?? measured.one, bandwidth2 ?? measured.two)
            }
        }
        var rows: [Row] = []
        for model in models {
            for threadCount in threadCounts {
                var row = Row(model: model, threads: threadCount)
                for round in 1...rounds {
                    if promptTokens > 0 {
                        let (llama, record) = try runLlamaBench(llamaBench, model: model, threads: threadCount, prompt: promptTokens, generate: 0)
                        row.llamaPrompt.append(llama)
                        row.llamaModelSize = record.modelSize
                        row.llamaCommit = record.buildCommit
                        let (ours, report) = try runOurs(model: model, threads: threadCount, prompt: promptTokens, generate: 0)
                        row.oursPrompt.append(ours)
                        row.weightBytesPerToken = report.weightBytesPerToken
                    }
                    if generatedTokens > 0 {
                        let (llama, record) = try runLlamaBench(
                            llamaBench, model: model, threads: threadCount, prompt: 0, generate: generatedTokens, depth: depth)
                        row.llamaGeneration.append(llama)
                        row.llamaModelSize = record.modelSize
                        row.llamaCommit = record.buildCommit
                        let (ours, report) = try runOurs(model: model, threads: threadCount, prompt: 0, generate: generatedTokens, depth: depth)
                        row.oursGeneration.append(ours)
                        row.weightBytesPerToken = report.weightBytesPerToken
                    }
                    Self.progress(
                        "round \(round)/\(rounds) \(Self.label(model)) t=\(threadCount):"
                            + " tg llama.cpp \(Self.rates(row.llamaGeneration.last)) cartridge \(Self.rates(row.oursGeneration.last));"
                            + " pp llama.cpp \(Self.rates(row.llamaPrompt.last)) cartridge \(Self.rates(row.oursPrompt.last))")
                }
                rows.append(row)
            }
        }
        printTable(rows, bandwidth: bandwidth, conditions: conditions)
    }

    func printTable(_ rows: [Row], bandwidth: (one: Double, two: Double)?, conditions: String) {
        let commit = rows.first(where: { !$0.llamaCommit.isEmpty })?.llamaCommit ?? "?"
        print("")
        print("llama.cpp \(commit) (llama-bench) against cartridge (`cartridge-bench llm speed`), \(conditions)")
        let tg = "tg\(generatedTokens)" + (depth > 0 ? " @ d\(depth) (\(depth) tokens already in the KV cache)" : "")
        print("\(tg) and pp\(promptTokens) tok/s: median over \(rounds) interleaved round(s) of each child's median of \(repeats) repetitions; "
            + "ratio = median of the per-round ratios cartridge / llama.cpp")
        print("")
        var header = "| model | threads | tg llama.cpp | tg cartridge | tg ratio | tg GB/s llama.cpp / cartridge |"
        var rule = "|---|---|---|---|---|---|"
        if bandwidth != nil {
            header += " roofline llama.cpp / cartridge |"
            rule += "---|"
        }
        header += " pp llama.cpp | pp cartridge | pp ratio | peak RSS MiB llama-bench / cartridge |"
        rule += "---|---|---|---|"
        print(header)
        print(rule)
        for row in rows {
            let bytes = Double(row.weightBytesPerToken)
            let llamaTG = LLMSpeedReport.median(row.llamaGeneration.map(\.rate))
            let oursTG = LLMSpeedReport.median(row.oursGeneration.map(\.rate))
            let llamaPP = LLMSpeedReport.median(row.llamaPrompt.map(\.rate))
            let oursPP = LLMSpeedReport.median(row.oursPrompt.map(\.rate))
            let tgRatio = LLMSpeedReport.median(zip(row.oursGeneration, row.llamaGeneration).map { $0.rate / $1.rate })
            let ppRatio = LLMSpeedReport.median(zip(row.oursPrompt, row.llamaPrompt).map { $0.rate / $1.rate })
            let llamaGB = llamaTG.map { $0 * bytes / 1e9 }
            let oursGB = oursTG.map { $0 * bytes / 1e9 }
            var line = "| \(Self.label(row.model)) | \(row.threads) | \(Self.show(llamaTG, digits: 1)) | \(Self.show(oursTG, digits: 1)) | \(Self.show(tgRatio, digits: 2, suffix: "×")) | "
            line += "\(Self.show(llamaGB, digits: 1)) / \(Self.show(oursGB, digits: 1)) |"
            if let bandwidth {
                let available = row.threads > 1 ? bandwidth.two : bandwidth.one
                line += " \(Self.show(llamaGB.map { 100 * $0 / available }, suffix: " %")) / \(Self.show(oursGB.map { 100 * $0 / available }, suffix: " %")) |"
            }
            let llamaRSS = (row.llamaGeneration + row.llamaPrompt).map(\.peakKilobytes).max().map { Double($0) / 1024 }
            let oursRSS = (row.oursGeneration + row.oursPrompt).map(\.peakKilobytes).max().map { Double($0) / 1024 }
            line += " \(Self.show(llamaPP, digits: 1)) | \(Self.show(oursPP, digits: 1)) | \(Self.show(ppRatio, digits: 2, suffix: "×")) | \(Self.show(llamaRSS, digits: 1)) / \(Self.show(oursRSS, digits: 1)) |"
            print(line)
        }
        print("")
        let bytesNote = rows.map { "\(Self.label($0.model)) \(Self.show(Double($0.weightBytesPerToken) / 1e6, digits: 1)) MB (llama-bench model_size \(Self.show(Double($0.llamaModelSize) / 1e6, digits: 1)) MB)" }
        print("GB/s = tg tok/s × weight bytes the decoder reads per token (all matrices and the classifier, the same bytes for both engines): "
            + bytesNote.joined(separator: ", ") + "." + (depth > 0 ? " At depth each token also reads the cached keys and values, which this leaves out." : ""))
        if let bandwidth {
            print("Roofline = GB/s ÷ DRAM read bandwidth (\(Self.show(bandwidth.one, digits: 1)) GB/s 1 thread, \(Self.show(bandwidth.two, digits: 1)) GB/s 2 threads; "
                + "above 100 % means part of the weights come from cache).")
        }
        print("Peak RSS = wait4 ru_maxrss of each child (max over its pp and tg runs); the parent's own VmHWM, a floor for it, is "
            + "\(Self.show(Double(ChildProcess.ownPeakKilobytes()) / 1024, digits: 1)) MiB.")
        print("")
        print("Per round (tok/s, llama.cpp / cartridge):")
        for row in rows {
            let rounds = (0..<max(row.llamaGeneration.count, row.llamaPrompt.count)).map { index in
                "tg \(Self.rates(row.llamaGeneration[safe: index])) / \(Self.rates(row.oursGeneration[safe: index])), "
                    + "pp \(Self.rates(row.llamaPrompt[safe: index])) / \(Self.rates(row.oursPrompt[safe: index]))"
            }
            print("- \(Self.label(row.model)) t=\(row.threads): " + rounds.joined(separator: "; "))
        }
        print("")
        print("Conditions at the end: \(Self.conditions())")
    }

    func runLlamaBench(_ binary: String, model: String, threads: Int, prompt: Int, generate: Int, depth: Int = 0) throws -> (Measurement, LlamaBenchRecord) {
        var arguments = ["-m", model, "-t", String(threads), "-p", String(prompt), "-n", String(generate), "-r", String(repeats), "-o", "json"]
        if depth > 0 { arguments += ["-d", String(depth)] }
        let result = try ChildProcess.run(binary, arguments, outputPrefix: "\(workDirectory)/llama-bench")
        guard result.termination.exitedNormally else {
            throw ValidationError("llama-bench \(arguments.joined(separator: " ")) failed (\(result.termination.status)): \(result.stderr.suffix(600))")
        }
        guard let record = try LlamaBenchRecord.parse(result.stdout).first(where: { $0.promptTokens == prompt && $0.generatedTokens == generate }) else {
            throw ValidationError("llama-bench printed no pp\(prompt)/tg\(generate) test: \(result.stdout.prefix(300))")
        }
        let rate = LLMSpeedReport.median(record.samples) ?? record.averageRate
        return (Measurement(rate: rate, peakKilobytes: result.termination.peakResidentKilobytes), record)
    }

    func runOurs(model: String, threads: Int, prompt: Int, generate: Int, depth: Int = 0) throws -> (Measurement, LLMSpeedReport) {
        var arguments = ["llm", "speed", "--model", model, "--threads", String(threads), "-p", String(prompt), "-n", String(generate), "-r", String(repeats), "--json"]
        if depth > 0 { arguments += ["-d", String(depth)] }
        if let kvCacheType { arguments += ["--kv-cache-type", kvCacheType.rawValue] }
        let result = try ChildProcess.run(ChildProcess.ownExecutable(), arguments, outputPrefix: "\(workDirectory)/cartridge-speed")
        guard result.termination.exitedNormally, let line = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw ValidationError("cartridge-bench \(arguments.joined(separator: " ")) failed (\(result.termination.status)): \(result.stderr.suffix(600))")
        }
        let report = try JSONDecoder().decode(LLMSpeedReport.self, from: Data(line.utf8))
        let rate = (prompt > 0 ? report.promptMedian : report.generationMedian) ?? 0
        return (Measurement(rate: rate, peakKilobytes: result.termination.peakResidentKilobytes), report)
    }

    func measureBandwidth() throws -> (one: Double, two: Double) {
        let result = try ChildProcess.run(
            ChildProcess.ownExecutable(), ["llm", "speed", "--model", models[0], "--read-bandwidth"], outputPrefix: "\(workDirectory)/bandwidth")
        guard let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("read_bandwidth_gbs") }) else {
            throw ValidationError("bandwidth child failed: \(result.stderr.suffix(300))")
        }
        let fields = line.split(separator: " ")
        guard fields.count == 3, let one = Double(fields[1]), let two = Double(fields[2]) else { throw ValidationError("bad bandwidth line: \(line)") }
        Self.progress("DRAM read bandwidth (measured now): \(Self.show(one, digits: 1)) GB/s 1 thread, \(Self.show(two, digits: 1)) GB/s 2 threads")
        return (one, two)
    }

    // MARK: Formatting and conditions

    /// Date, load average, CPU and the kernel family the engine runs, for the line printed above
    /// each table.
    static func conditions() -> String {
        let load = ChildProcess.contents(of: "/proc/loadavg").split(separator: " ").prefix(3).joined(separator: " ")
        let cpu = ChildProcess.contents(of: "/proc/cpuinfo").split(separator: "\n")
            .first(where: { $0.hasPrefix("model name") })?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let formatter = ISO8601DateFormatter()
        return "\(formatter.string(from: Date())), load average \(load), \(ProcessInfo.processInfo.activeProcessorCount) CPUs (\(cpu)), kernels \(KernelInstructionSet.active)\(InterleavedMatrix.isAvailable ? " (interleaved)" : "")"
    }

    /// "SmolLM2-135M-Instruct.Q4_1" for ".../SmolLM2-135M-Instruct.Q4_1.gguf".
    static func label(_ path: String) -> String {
        let name = String(path.split(separator: "/").last ?? Substring(path))
        return name.hasSuffix(".gguf") ? String(name.dropLast(5)) : name
    }

    /// Directory of this executable + `name` (cartridged is built beside cartridge-bench).
    static func sibling(_ name: String) -> String {
        let own = ChildProcess.ownExecutable()
        guard let slash = own.lastIndex(of: "/") else { return name }
        return String(own[...slash]) + name
    }

    static func rates(_ measurement: Measurement?) -> String { measurement.map { show($0.rate, digits: 1) } ?? "–" }

    static func show(_ value: Double?, digits: Int = 0, suffix: String = "") -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(digits)f", value) + suffix
    }

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
