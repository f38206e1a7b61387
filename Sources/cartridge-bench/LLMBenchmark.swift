import ArgumentParser

/// `cartridge-bench llm`: GGUF chat-model tools (logits for engine comparisons).
struct LLMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm", abstract: "GGUF language-model tools: logits dumps for accuracy comparisons.",
        subcommands: [LogitsCommand.self, MakeGGUFCommand.self, LLMSpeedCommand.self, LLMSpeedComparison.self])
}
