import CartridgeInference
import Testing

/// Greedy generation must give exactly the tokens llama2.c run.c gives (see ReferenceFixtures).
@Suite("Token-identical with llama2.c run.c")
struct ReferenceTests {
    /// Runs a greedy generation like run.c (-t 0 -n 256: positions include the prompt, stop only at BOS).
    static func runLikeRunC(_ model: LlamaModel, prompt: [Int32], steps: Int = 256, switchWorkers: Bool = false) throws -> [Int32] {
        let session = model.makeSession()
        try session.startGeneration(
            promptTokens: prompt,
            parameters: GenerationParameters(sampling: .greedy, maxTokens: steps - prompt.count + 1, stopAtEndOfSequence: false))
        var generated: [Int32] = []
        while case .token(let id, _) = try session.nextToken() {
            if id == LlamaTokenizer.bos { break }
            generated.append(id)
            // The power knob may change between tokens without changing the result.
            if switchWorkers { model.setWorkerCount(generated.count % 3 == 0 ? 1 : 2) }
        }
        return generated
    }

    @Test("stories260K: several prompts, 200+ tokens each",
          .enabled(if: SharedModels.stories260K != nil, Comment(rawValue: SharedModels.missingReason)))
    func stories260K() throws {
        let model = try LlamaModel(checkpointPath: try #require(SharedModels.stories260K), tokenizerPath: nil, maximumWorkers: 2)
        #expect(model.config == LlamaConfig(dim: 64, hiddenDim: 172, layers: 5, heads: 8, kvHeads: 4, vocab: 512, seqLen: 512))
        for (index, fixture) in ReferenceFixtures.stories260K.enumerated() {
            #expect(fixture.generated.count >= 200)
            let generated = try Self.runLikeRunC(model, prompt: fixture.prompt, switchWorkers: index % 2 == 1)
            #expect(generated == fixture.generated, "prompt \(fixture.prompt)")
        }
    }

    @Test("synthetic stories15M shape from our generator, as run by run.c")
    func synthetic15M() throws {
        let file = TemporaryFile("s15M.bin")
        defer { file.remove() }
        let generator = try SyntheticCheckpoint(config: .stories15M, seed: 1)
        let size = file.write { sink in generator.writeFloat32(to: sink) }
        #expect(size == ReferenceFixtures.synthetic15MFileSize)
        let model = try LlamaModel(checkpointPath: file.path, tokenizerPath: SharedModels.llama2Tokenizer, maximumWorkers: 2)
        if model.tokenizer != nil {
            #expect(try model.tokenize("Once upon a time") == ReferenceFixtures.synthetic15MPrompt)
        }
        let generated = try Self.runLikeRunC(model, prompt: ReferenceFixtures.synthetic15MPrompt)
        #expect(generated == ReferenceFixtures.synthetic15MGenerated)
    }
}
