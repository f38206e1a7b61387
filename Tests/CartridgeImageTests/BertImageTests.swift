import CartridgeInference
import CartridgeTestSupport
import Foundation
import Testing

@testable import CartridgeImage

/// The embedding cartridge: a Hugging Face BERT directory burned into an image and served from it.
@Suite struct BertImageTests {
    static let sentences = ["The cat sat on the mat.", "A dog is on a rug!", "Stock markets fell", "red red red red red red red red red"]
    static let card = LlamaImage.Card(name: "tiny-bert", license: "Apache-2.0", publisher: "tests")

    @Test func burnedImageEmbedsExactlyAsTheModelDirectory() throws {
        let directory = try TemporaryDirectory("bert-image")
        let model = try TinyBertModel.write(into: directory)
        let path = directory.file("bert.cart")
        try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        let manifest = image.manifest
        #expect(manifest.family == "bert" && manifest.architecture == "bert-encoder")
        #expect(manifest.tokenizerKind == BertImage.tokenizerKindJSON)
        #expect(manifest.contextLength == TinyBertModel.maximumLength)
        #expect(manifest.vocabularySize == TinyBertModel.vocabulary.count)
        #expect(manifest.quantization == "fp32")
        #expect(manifest.hyperparameters["hidden_size"] == 16 && manifest.hyperparameters["layers"] == 2)
        #expect(manifest.extra["layer_norm_eps"] == "1e-12")
        #expect(manifest.extra["source.safetensors.sha256"]?.count == 64)
        // Encoder names without the `bert.` prefix, in the encoder's order; the unused pooler is not burned.
        #expect(image.tensors.map(\.name) == BertEncoder.tensorNames(for: TinyBertModel.config).map(\.name))
        #expect(Array(image.tokenizerBlob) == Array(TinyBertModel.tokenizerJSON().utf8))

        let fromImage = try BertImage.makeEmbedder(from: image)
        let fromDirectory = try SentenceEmbedder.load(directory: model)
        #expect(fromImage.maximumTokens == TinyBertModel.maximumLength)
        for sentence in Self.sentences {
            #expect(fromImage.tokenizer.encode(sentence) == fromDirectory.tokenizer.encode(sentence))
        }
        // The F16 tensor was widened at burn time exactly as the directory loader widens it, so the
        // vectors are bit-identical.
        let a = try fromImage.embed(Self.sentences)
        let b = try fromDirectory.embed(Self.sentences)
        #expect(a == b)
        #expect(a.count == 4 && a[0].count == 16)
        #expect(abs(a[0].reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        // The truncation at 10 tokens applies: 9 "red" become 8 plus [CLS] and [SEP].
        #expect(fromImage.tokenizer.encode(Self.sentences[3]).count == 10)
    }

    @Test func burningTwiceGivesIdenticalBytes() throws {
        let directory = try TemporaryDirectory("bert-image")
        let model = try TinyBertModel.write(into: directory)
        try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: nil, to: directory.file("a.cart"))
        try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: nil, to: directory.file("b.cart"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.file("a.cart"))) == Data(contentsOf: URL(fileURLWithPath: directory.file("b.cart"))))
    }

    @Test func withoutTokenizerJSONTheVocabularyIsBurnedWithBertDefaults() throws {
        let directory = try TemporaryDirectory("bert-image")
        var options = TinyBertModel.Options()
        options.writeTokenizerJSON = false
        let model = try TinyBertModel.write(into: directory, options: options)
        let path = directory.file("bert.cart")
        try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        #expect(image.manifest.tokenizerKind == BertImage.tokenizerKindVocabulary)
        #expect(image.manifest.contextLength == TinyBertModel.config.maximumPositions)
        let embedder = try BertImage.makeEmbedder(from: image)
        #expect(embedder.maximumTokens == 16)
        #expect(try embedder.embed(Self.sentences) == SentenceEmbedder.load(directory: model).embed(Self.sentences))
    }

    @Test func signedEmbeddingImageVerifiesAgainstTrustedKeys() throws {
        let directory = try TemporaryDirectory("bert-image")
        let model = try TinyBertModel.write(into: directory)
        let key = ImageSigningKey(generatingWithName: "tests")
        let path = directory.file("bert.cart")
        try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: key, to: path)
        let trusted = try TrustedKeys(parsing: key.trustedKey.line + "\n")
        let image = try CartridgeImage.open(path: path, trustedKeys: trusted)
        #expect(image.signer?.name == "tests")
        _ = try BertImage.makeEmbedder(from: image)
    }

    @Test(arguments: ["malformed safetensors", "missing tensor", "relu activation", "no vocabulary"])
    func refusesBadModelDirectories(problem: String) throws {
        let directory = try TemporaryDirectory("bert-image")
        var options = TinyBertModel.Options()
        if problem == "missing tensor" { options.omittedTensors = ["encoder.layer.1.output.dense.bias"] }
        if problem == "relu activation" { options.hiddenActivation = "relu" }
        let model = try TinyBertModel.write(into: directory, options: options)
        if problem == "malformed safetensors" {
            var bytes = TinyBertModel.safetensors(seed: 1)
            bytes.removeLast(100)  // the last tensor's data is cut short
            try Data(bytes).write(to: URL(fileURLWithPath: model + "/model.safetensors"))
        }
        if problem == "no vocabulary" {
            try FileManager.default.removeItem(atPath: model + "/tokenizer.json")
            try FileManager.default.removeItem(atPath: model + "/vocab.txt")
        }
        let path = directory.file("bert.cart")
        let error = #expect(throws: ImageError.self) {
            try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: nil, to: path)
        }
        #expect(error?.code == (problem == "no vocabulary" ? .fileUnreadable : .malformedSource), "\(problem): \(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: path), "nothing is written for \(problem)")
    }

    @Test func tokenizerThatDisagreesWithTheEncoderIsRefused() throws {
        let directory = try TemporaryDirectory("bert-image")
        let model = try TinyBertModel.write(into: directory)
        // One token short of the encoder's 24.
        let json = TinyBertModel.tokenizerJSON().replacingOccurrences(of: ",\"red\":23", with: "")
        try Data(json.utf8).write(to: URL(fileURLWithPath: model + "/tokenizer.json"))
        let error = #expect(throws: ImageError.self) {
            try BertImage.burn(modelDirectory: model, card: Self.card, signingKey: nil, to: directory.file("bert.cart"))
        }
        #expect(error?.code == .manifestMismatch)
    }

    /// An image whose manifest and tensors disagree is refused when the embedder is built, with
    /// a clear error (it passed verification: the burner signed off on what it was given).
    @Test(arguments: ["wrong shape", "fp16 tensor", "unknown tokenizer", "bad epsilon", "llama family"])
    func refusesImagesThatDoNotFitTheEncoder(problem: String) throws {
        let directory = try TemporaryDirectory("bert-image")
        let config = TinyBertModel.config
        var storage: [[Float]] = []
        var tensors: [ImageTensorInput] = []
        let names = BertEncoder.tensorNames(for: config)
        for (name, shape) in names { storage.append([Float](repeating: 0.5, count: shape.reduce(1, *))) ; _ = name }
        let halves = [UInt16](repeating: 0x3800, count: names[0].shape.reduce(1, *))
        var hyperparameters = BertImage.hyperparameters(of: config)
        var extra = ["layer_norm_eps": "1e-12"]
        var tokenizerKind = BertImage.tokenizerKindJSON
        var family = BertImage.family
        switch problem {
        case "wrong shape": hyperparameters["intermediate_size"] = 24
        case "unknown tokenizer": tokenizerKind = "sentencepiece"
        case "bad epsilon": extra["layer_norm_eps"] = "-1"
        case "llama family": family = "llama"
        default: break
        }
        let path = directory.file("bad.cart")
        try storage.withUnsafeBufferPointers { buffers in
            try halves.withUnsafeBufferPointer { halfBuffer in
                for (index, (name, shape)) in names.enumerated() {
                    if problem == "fp16 tensor" && index == 0 {
                        tensors.append(ImageTensorInput(name: name, shape: shape, source: .float16(halfBuffer), storedAs: .float16))
                    } else {
                        tensors.append(.float32(name, shape: shape, buffers[index]))
                    }
                }
                let manifest = ImageManifest(
                    name: "bad", family: family, architecture: BertImage.architecture, hyperparameters: hyperparameters,
                    tokenizerKind: tokenizerKind, contextLength: TinyBertModel.maximumLength, vocabularySize: config.vocabularySize,
                    license: "none", publisher: "tests", createdBy: "tests", extra: extra)
                try ImageBurner(manifest: manifest, tokenizer: Array(TinyBertModel.tokenizerJSON().utf8), tensors: tensors).burn(to: path)
            }
        }
        let image = try CartridgeImage.open(path: path)
        let error = #expect(throws: ImageError.self) { try BertImage.makeEmbedder(from: image) }
        let expected: ImageError.Code = problem == "bad epsilon" ? .malformedManifest : .manifestMismatch
        #expect(error?.code == expected, "\(problem): \(String(describing: error))")
    }
}

extension Array where Element == [Float] {
    /// Runs `body` with a buffer pointer to each inner array (kept alive for the call).
    fileprivate func withUnsafeBufferPointers<Result>(_ body: ([UnsafeBufferPointer<Float>]) throws -> Result) rethrows -> Result {
        let copies = map { values -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            return buffer
        }
        defer { for buffer in copies { buffer.deallocate() } }
        return try body(copies.map { UnsafeBufferPointer($0) })
    }
}
