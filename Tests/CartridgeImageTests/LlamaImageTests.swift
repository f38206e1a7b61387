import CartridgeInference
import Glibc
import CartridgeTestSupport
import Testing

@testable import CartridgeImage

@Suite struct LlamaImageTests {
    static let models = "/work/shared/models"
    static let stories260K = models + "/stories260K.bin"
    static let tokenizer = models + "/llama2-tokenizer.bin"
    static var sharedModelsPresent: Bool {
        let present = access(stories260K, R_OK) == 0 && access(tokenizer, R_OK) == 0
        if !present { print("skipping stories260K image test: \(stories260K) or \(tokenizer) is absent") }
        return present
    }

    static let card = LlamaImage.Card(name: "test model", license: "MIT", publisher: "cartridge tests")

    static func greedyTokens(_ model: LlamaModel, count: Int) throws -> [Int32] {
        let session = model.makeSession()
        _ = try session.startGeneration(
            promptTokens: [LlamaTokenizer.bos], parameters: GenerationParameters(sampling: .greedy, maxTokens: count, stopAtEndOfSequence: false))
        var tokens: [Int32] = []
        while case .token(let id, _) = try session.nextToken() { tokens.append(id) }
        return tokens
    }

    /// A checkpoint burned to an image generates exactly the raw checkpoint's greedy tokens.
    func expectTokenIdentity(checkpoint: String, tokenizer: String, directory: TemporaryDirectory) throws {
        let imagePath = directory.file("model.cart")
        try LlamaImage.burn(checkpointPath: checkpoint, tokenizerPath: tokenizer, storage: .asCheckpoint, card: Self.card, signingKey: nil, to: imagePath)
        let image = try CartridgeImage.open(path: imagePath)
        let fromImage = try LlamaImage.makeModel(from: image, maximumWorkers: 1)
        let raw = try LlamaModel(checkpointPath: checkpoint, tokenizerPath: tokenizer, maximumWorkers: 1)
        #expect(fromImage.config == raw.config)
        let expected = try Self.greedyTokens(raw, count: 48)
        #expect(expected.count == 48)
        #expect(try Self.greedyTokens(fromImage, count: 48) == expected)
        #expect(image.manifest.family == "llama")
        #expect(image.manifest.contextLength == raw.config.seqLen)
        #expect(image.manifest.extra["source.checkpoint.sha256"]?.count == 64)
    }

    @Test func tinyCheckpointImageIsTokenIdentical() throws {
        let directory = try TemporaryDirectory("llama-image")
        let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
        let tokenizer = try directory.write(SyntheticTokenizer.fileBytes(size: TinyCheckpoint.vocabulary), to: "tokenizer.bin")
        try expectTokenIdentity(checkpoint: checkpoint, tokenizer: tokenizer, directory: directory)
    }

    @Test(.enabled(if: sharedModelsPresent, "needs /work/shared/models/stories260K.bin and llama2-tokenizer.bin"))
    func stories260KImageIsTokenIdentical() throws {
        let directory = try TemporaryDirectory("llama-image")
        try expectTokenIdentity(checkpoint: Self.stories260K, tokenizer: Self.tokenizer, directory: directory)
    }

    @Test func quantizedBurnIsQ8AndStillGenerates() throws {
        let directory = try TemporaryDirectory("llama-image")
        let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
        let tokenizer = try directory.write(SyntheticTokenizer.fileBytes(size: TinyCheckpoint.vocabulary), to: "tokenizer.bin")
        let path = directory.file("q8.cart")
        try LlamaImage.burn(checkpointPath: checkpoint, tokenizerPath: tokenizer, storage: .q8_0(preferredGroupSize: 32), card: Self.card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        #expect(image.manifest.quantization.hasPrefix("q8_0/"))
        let wq = try #require(image.tensor(named: "layers.0.wq"))
        #expect(wq.info.type.isQ8_0)
        #expect(try Self.greedyTokens(LlamaImage.makeModel(from: image, maximumWorkers: 1), count: 16).count == 16)
        // Burning again gives the same bytes (quantization is deterministic).
        let again = directory.file("q8-again.cart")
        try LlamaImage.burn(checkpointPath: checkpoint, tokenizerPath: tokenizer, storage: .q8_0(preferredGroupSize: 32), card: Self.card, signingKey: nil, to: again)
        #expect(try readSmallFile(path, limit: 1 << 26, what: "image") == (try readSmallFile(again, limit: 1 << 26, what: "image")))
    }

    @Test func anImageWhoseHyperparametersDisagreeWithItsTensorsIsRefused() throws {
        let directory = try TemporaryDirectory("llama-image")
        let checkpoint = try LlamaCheckpoint(path: try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin"))
        var burner = try LlamaImage.burner(checkpoint: checkpoint, tokenizer: SyntheticTokenizer.fileBytes(size: 512), storage: .float32, card: Self.card)
        burner.manifest.hyperparameters["hidden_dim"] = 128
        let path = directory.file("bad.cart")
        try burner.burn(to: path)  // the checkpoint's mapping (owned by `checkpoint.weights`) is alive here
        let image = try CartridgeImage.open(path: path)
        let error = #expect(throws: ImageError.self) { try LlamaImage.makeModel(from: image) }
        #expect(error?.code == .manifestMismatch)
        #expect(error?.message.contains("w1") == true, "\(error?.message ?? "")")
    }
}
