import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartridge-bench",
        abstract: "Benchmarks of the cartridge stack (see docs/PERFORMANCE.md for the commands and figures).",
        subcommands: [
            ProtocolBenchmark.self, InferenceBenchmark.self, EmbeddingBenchmark.self, StartupBenchmark.self, LLMBenchmark.self,
            GatewayBenchmark.self,
        ])
}
