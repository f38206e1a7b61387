import ArgumentParser
import CartridgeInference
import Foundation

/// The side-by-side table: our engine and llama2.c run/runq on the same synthetic checkpoints,
/// each configuration run several times in separate processes (interleaved), medians reported.
struct InferenceSpeedComparison: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "tok/s, GB/s, roofline fraction and peak RSS: Swift engine vs llama2.c run/runq.")

    @Option(help: "Shapes to run (comma separated).") var shapes = "15M,42M,110M"
    @Option(help: "Formats: fp32 (run.c) and int8 (runq.c), comma separated.") var formats = "fp32,int8"
    @Option(help: "Thread counts (comma separated).") var threads = "1,2"
    @Option(help: "Runs per configuration (median reported).") var repeats = 3
    @Option(name: .customShort("n"), help: "Positions per run, prompt included (run.c -n).") var steps = 256
    @Option(name: .customLong("run"), help: "llama2.c run binary (gcc -Ofast -march=native -fopenmp run.c -lm).") var runBinary: String?
    @Option(name: .customLong("runq"), help: "llama2.c runq binary (gcc -Ofast -march=native -fopenmp runq.c -lm).") var runqBinary: String?
    @Option(help: "Llama 2 tokenizer.bin (needed by run.c for the prompt).") var tokenizer = "/work/shared/models/llama2-tokenizer.bin"
    @Option(help: "Where synthetic checkpoints are written (reused if present).") var modelsDirectory = "/tmp/cartridge-bench-models"
    @Option(help: "Single-thread DRAM read bandwidth, GB/s, for the roofline (default: measured in this run).") var bandwidth1: Double?
    @Option(help: "Two-thread DRAM read bandwidth, GB/s (default: measured in this run).") var bandwidth2: Double?

    func run() throws {
        let shapeList = try shapes.split(separator: ",").map { name -> BenchmarkShape in
            guard let shape = BenchmarkShape(rawValue: String(name)) else { throw ValidationError("unknown shape \(name)") }
            return shape
        }
        let threadList = threads.split(separator: ",").compactMap { Int($0) }
        let formatList = formats.split(separator: ",").map(String.init)
        let prompt = "Once upon a time"
        try FileManager.default.createDirectory(atPath: modelsDirectory, withIntermediateDirectories: true)
        for (label, path) in [("run", runBinary), ("runq", runqBinary)] where path == nil || !FileManager.default.isExecutableFile(atPath: path!) {
            print("note: llama2.c \(label) not given or not executable (--\(label) PATH); its column stays empty")
        }
        // The machine's read bandwidth now (a 512 MiB SIMD sum), for the roofline column.
        let bandwidth1 = self.bandwidth1 ?? ReadBandwidth.measure(threads: 1)
        let bandwidth2 = self.bandwidth2 ?? ReadBandwidth.measure(threads: 2)
        print("DRAM read bandwidth: \(Self.format(bandwidth1, digits: 1)) GB/s with 1 thread, \(Self.format(bandwidth2, digits: 1)) GB/s with 2 "
            + "(\(self.bandwidth1 == nil ? "measured now: best of 7 SIMD sums over 512 MiB" : "as given"))")
        print("prompt \"\(prompt)\", \(steps) positions, greedy; median of \(repeats) runs; tok/s as run.c reports it (first step excluded)")
        print("")
        print("| shape | format | threads | ours tok/s | llama2.c tok/s | ours / llama2.c | ours GB/s | roofline | peak RSS MB | mapped + KV MB |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for shape in shapeList {
            for format in formatList {
                let q8 = format == "int8"
                let path = "\(modelsDirectory)/\(shape.rawValue)-\(q8 ? "q80" : "fp32").bin"
                if !FileManager.default.fileExists(atPath: path) {
                    try SyntheticCheckpointCommand.write(shape: shape, q8: q8, groupSize: shape.groupSize, seed: 1, to: path)
                }
                let fileBytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                let reference = q8 ? runqBinary : runBinary
                for threadCount in threadList {
                    var ours: [Double] = []
                    var theirs: [Double] = []
                    var rss = 0
                    var weightBytes = 0
                    var kvBytes = 0
                    for _ in 0..<repeats {
                        let result = try Self.measureOurs(checkpoint: path, tokenizer: tokenizer, prompt: prompt, steps: steps, threads: threadCount)
                        ours.append(result.rate)
                        rss = max(rss, result.peakKilobytes)
                        weightBytes = result.weightBytes
                        kvBytes = result.kvBytes
                        if let reference, FileManager.default.isExecutableFile(atPath: reference) {
                            theirs.append(try Self.measureLlama2c(binary: reference, checkpoint: path, tokenizer: tokenizer, prompt: prompt, steps: steps, threads: threadCount))
                        }
                    }
                    let oursMedian = Self.median(ours)
                    let theirsMedian = theirs.isEmpty ? nil : Self.median(theirs)
                    let gigabytesPerSecond = oursMedian * Double(weightBytes) / 1e9
                    let bandwidth = threadCount > 1 ? bandwidth2 : bandwidth1
                    let ratio = theirsMedian.map { Self.format(oursMedian / $0, digits: 2) + "×" } ?? "–"
                    let theirsText = theirsMedian.map { Self.format($0) } ?? "–"
                    let roofline = Self.format(100 * gigabytesPerSecond / bandwidth, digits: 0)
                    let rssText = Self.format(Double(rss) / 1024, digits: 1)
                    let mappedText = Self.format(Double(fileBytes) / 1_048_576, digits: 1)
                    let kvText = Self.format(Double(kvBytes) / 1_048_576 * Double(steps) / Double(shape.config.seqLen), digits: 1)
                    var row = "| \(shape.rawValue) | \(format) | \(threadCount) | \(Self.format(oursMedian)) | \(theirsText) | \(ratio) | "
                    row += "\(Self.format(gigabytesPerSecond, digits: 1)) | \(roofline) % | \(rssText) | \(mappedText) + \(kvText) |"
                    print(row)
                }
            }
        }
        print("")
        print("GB/s = tok/s × weight bytes per token (all matrices + classifier). Roofline = GB/s ÷ DRAM read bandwidth "
            + "(\(Self.format(bandwidth1, digits: 1)) GB/s 1 thread, \(Self.format(bandwidth2, digits: 1)) GB/s 2 threads); above 100 % means part of the weights come from L3. "
            + "KV = the cache positions used by \(steps) steps.")
    }

    struct OurResult {
        var rate: Double
        var peakKilobytes: Int
        var weightBytes: Int
        var kvBytes: Int
    }

    /// Runs `cartridge-bench inference generate` in a child process (fresh RSS high-water mark).
    static func measureOurs(checkpoint: String, tokenizer: String, prompt: String, steps: Int, threads: Int) throws -> OurResult {
        let stderr = try runProcess(
            "/proc/self/exe",
            ["inference", "generate", checkpoint, "-z", tokenizer, "-i", prompt, "-n", String(steps), "--threads", String(threads)],
            environment: [:])
        var result = OurResult(rate: 0, peakKilobytes: 0, weightBytes: 0, kvBytes: 0)
        for line in stderr.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if line.hasPrefix("achieved tok/s:") { result.rate = Double(fields.last ?? "") ?? 0 }
            if line.hasPrefix("peak_rss_kb"), fields.count >= 6 {
                result.peakKilobytes = Int(fields[1]) ?? 0
                result.weightBytes = Int(fields[3]) ?? 0
                result.kvBytes = Int(fields[5]) ?? 0
            }
        }
        return result
    }

    static func measureLlama2c(binary: String, checkpoint: String, tokenizer: String, prompt: String, steps: Int, threads: Int) throws -> Double {
        let stderr = try runProcess(
            binary, [checkpoint, "-z", tokenizer, "-t", "0", "-n", String(steps), "-i", prompt],
            environment: ["OMP_NUM_THREADS": String(threads)])
        for line in stderr.split(separator: "\n") where line.hasPrefix("achieved tok/s:") {
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        throw ValidationError("\(binary) printed no tok/s: \(stderr)")
    }

    /// Runs a child to completion; returns its stderr (stdout is discarded).
    static func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable == "/proc/self/exe" ? (try FileManager.default.destinationOfSymbolicLink(atPath: executable)) : executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func format(_ value: Double, digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
}
