import ArgumentParser
import CartridgeInference
import Foundation

/// Runs one generation like llama2.c's `run -t 0 -n STEPS`, printing text or token ids and a
/// machine-readable summary line (tok/s, peak RSS) on stderr.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate from a llama2.c checkpoint (like run.c), report tok/s and peak RSS.")

    @Argument(help: "llama2.c checkpoint (v0 fp32 or v2 Q8_0).") var checkpoint: String
    @Option(name: [.customShort("z"), .long], help: "tokenizer.bin (run.c -z).") var tokenizer: String?
    @Option(name: .shortAndLong, help: "Prompt text.") var input: String = ""
    @Option(help: "Prompt token ids, comma separated (instead of text; start with 1 for BOS).") var promptIds: String?
    @Option(name: [.customShort("n"), .long], help: "Positions to run, prompt included (run.c -n).") var steps = 256
    @Option(name: [.customShort("t"), .long], help: "Temperature (0 = greedy).") var temperature: Float = 0
    @Option(name: [.customShort("p"), .long], help: "Top-p.") var topP: Float = 0.9
    @Option(help: "Top-k (0 = off).") var topK = 0
    @Option(name: [.customShort("s"), .long], help: "Seed.") var seed: UInt64 = 42
    @Option(help: "Worker threads.") var threads = 2
    @Flag(help: "Print generated token ids instead of text.") var ids = false

    func run() throws {
        let model = try LlamaModel(checkpointPath: checkpoint, tokenizerPath: tokenizer, maximumWorkers: threads)
        let prompt: [Int32]
        if let promptIds {
            prompt = promptIds.split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        } else {
            prompt = try model.tokenize(input, addBOS: true)
        }
        let session = model.makeSession()
        let clock = ContinuousClock()
        let started = clock.now
        // run.c semantics: `steps` positions in total, stop on BOS only.
        try session.startGeneration(
            promptTokens: prompt,
            parameters: GenerationParameters(
                sampling: SamplingParameters(temperature: temperature, topP: topP, topK: topK, seed: seed),
                maxTokens: max(0, steps - prompt.count + 1), stopAtEndOfSequence: false))
        var firstTokenAt: ContinuousClock.Instant?
        var produced = 0
        var out: [String] = []
        loop: while true {
            switch try session.nextToken() {
            case .token(let id, let text):
                if id == 1 { break loop }
                if firstTokenAt == nil { firstTokenAt = clock.now } else { produced += 1 }
                if ids { out.append(String(id)) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
            case .finished(_, let text):
                if !ids { FileHandle.standardOutput.write(Data(text.utf8)) }
                break loop
            }
        }
        let ended = clock.now
        if ids { print(out.joined(separator: ",")) } else { print("") }
        // Like run.c: the timer starts after the first step; prompt positions count as steps.
        let positions = prompt.count - 1 + produced
        let seconds = Double((ended - (firstTokenAt ?? started)).components.attoseconds) / 1e18
            + Double((ended - (firstTokenAt ?? started)).components.seconds)
        let rate = seconds > 0 ? Double(positions) / seconds : 0
        let peak = Self.peakResidentKilobytes()
        FileHandle.standardError.write(Data(
            "achieved tok/s: \(rate)\npeak_rss_kb \(peak) weights_bytes \(model.weightBytesPerToken) kv_bytes \(session.kvCacheCapacityBytes)\n".utf8))
        _ = started
    }

    /// VmHWM from /proc/self/status (peak resident set), in kB.
    static func peakResidentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
