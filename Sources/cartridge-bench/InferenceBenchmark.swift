import ArgumentParser
import CartridgeInference
import Foundation

/// Tokens/s of the Swift engine against llama2.c run/runq on synthetic stories-shaped checkpoints.
/// See docs/PERFORMANCE.md for the commands and figures.
struct InferenceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inference",
        abstract: "Inference speed: the Swift engine vs llama2.c run/runq (fp32 and int8, 1 and 2 threads).",
        subcommands: [InferenceSpeedComparison.self, SyntheticCheckpointCommand.self, GenerateCommand.self],
        defaultSubcommand: InferenceSpeedComparison.self)
}

/// The checkpoint shapes the benchmark knows by name.
enum BenchmarkShape: String, CaseIterable, ExpressibleByArgument {
    case stories15M = "15M", stories42M = "42M", stories110M = "110M"

    var config: LlamaConfig {
        switch self {
        case .stories15M: .stories15M
        case .stories42M: .stories42M
        case .stories110M: .stories110M
        }
    }

    /// Group sizes as in the performance note: 32 where hidden allows, 64 for 110M.
    var groupSize: Int { self == .stories110M ? 64 : 32 }
}

/// Writes a synthetic llama2.c checkpoint.
struct SyntheticCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-checkpoint",
        abstract: "Write a random-weight llama2.c checkpoint (v0 fp32 or v2 Q8_0) at a stories shape.")

    @Option(help: "Shape: 15M, 42M or 110M.") var shape: BenchmarkShape = .stories15M
    @Flag(help: "Write the v2 Q8_0 (runq.c) format instead of v0 fp32.") var q8 = false
    @Option(help: "Q8_0 group size (default 32, 64 for 110M).") var groupSize: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(name: .shortAndLong, help: "Output path.") var output: String

    func run() throws {
        try Self.write(shape: shape, q8: q8, groupSize: groupSize ?? shape.groupSize, seed: seed, to: output)
    }

    static func write(shape: BenchmarkShape, q8: Bool, groupSize: Int, seed: UInt64, to path: String) throws {
        let generator = try SyntheticCheckpoint(config: shape.config, seed: seed)
        _ = FileManager.default.createFile(atPath: path + ".partial", contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path + ".partial") else {
            throw ValidationError("cannot write \(path)")
        }
        let sink: (UnsafeRawBufferPointer) throws -> Void = { bytes in try handle.write(contentsOf: Data(bytes)) }
        if q8 {
            try generator.writeQ8(groupSize: groupSize, to: sink)
        } else {
            try generator.writeFloat32(to: sink)
        }
        try handle.close()
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
    }
}
