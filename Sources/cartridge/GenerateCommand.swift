import ArgumentParser
import CartridgeClient
import CartridgeWire


struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text from a prompt, streamed as it is produced.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The prompt text.") var prompt: String = ""
    @Option(name: .long, help: "Prompt as comma-separated token ids instead of text.") var tokens: String?
    @Option(name: [.customShort("n"), .long], help: "Maximum tokens to generate.") var maxTokens: UInt32 = 256
    @Option(name: [.short, .long], help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(name: .long, help: "Nucleus sampling mass (0 disables).") var topP: Float = 0
    @Option(name: .long, help: "Top-k sampling (0 disables).") var topK: UInt32 = 0
    @Option(name: .long, help: "Sampler seed.") var seed: UInt64 = 0
    @Option(name: .long, help: "Session id to keep the KV cache between calls (0: none).") var session: UInt32 = 0
    @Option(name: .long, help: "Stop when the output ends with this text (repeatable).") var stop: [String] = []
    @Flag(name: .long, help: "Print token ids instead of text.") var ids = false
    @Flag(name: .long, help: "Print statistics after the text.") var stats = false
    @Option(name: .long, help: "Print the top K log-probabilities of each token (K <= 20) after the text.") var logprobs: UInt8 = 0
    @Flag(name: .long, help: "Also report the prompt's tokens (with --logprobs, how likely each one was).") var echo = false

    func validate() throws {
        if temperature < 0 || !temperature.isFinite { throw ValidationError("--temperature must be >= 0") }
        if topP < 0 || topP > 1 { throw ValidationError("--top-p must be in [0, 1]") }
        if maxTokens == 0 { throw ValidationError("--max-tokens must be at least 1") }
        if logprobs > 20 { throw ValidationError("--logprobs must be at most 20") }
    }

    func promptValue() throws -> Prompt {
        guard let tokens else { return .text(prompt) }
        let values = tokens.split(separator: ",").map { UInt32($0.trimmedOfSpaces()) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--tokens must be comma-separated integers")
        }
        return .tokens(values.map { $0! })
    }

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        let request = GenerateRequest(
            prompt: try promptValue(), maximumTokens: maxTokens, temperature: temperature, topP: topP, topK: topK,
            seed: seed, session: session, stopSequences: stop, topLogprobs: logprobs, echo: echo)
        var summary: GenerationSummary?
        var generatedIDs: [String] = []
        var table = LogprobTable()
        for try await event in try await cartridge.generate(request) {
            switch event {
            case .promptToken(let token):
                table.add(prompt: token)
            case .token(let token):
                table.add(token)
                if ids {
                    generatedIDs.append("\(token.tokenID)")
                } else {
                    emit(token.text)
                }
            case .done(let done):
                summary = done
                if !ids { emit(done.trailingText) }
            }
        }
        if ids { print(generatedIDs.joined(separator: ",")) } else { print() }
        if logprobs > 0 || echo { table.print(cartridge: cartridge) }
        if stats, let summary {
            let ttft = Double(summary.timeToFirstTokenMicroseconds) / 1000
            print(
                "stop=\(summary.stopReason) prompt=\(summary.promptTokens) cached=\(summary.cachedPromptTokens) "
                    + "generated=\(summary.generatedTokens) ttft=\(ttft)ms tok/s=\(summary.tokensPerSecond)")
        }
    }
}

