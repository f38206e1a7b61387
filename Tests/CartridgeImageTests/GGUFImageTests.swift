import CartridgeGGML
import CartridgeInference
import CartridgeTestSupport
import Glibc
import Testing

@testable import CartridgeImage

/// GGUF models burned into images: tensors keep their ggml types, the model from the image runs
/// exactly as the model straight from the GGUF, and files the engine cannot serve are refused at
/// burn time with a message that names the problem.
@Suite struct GGUFImageTests {
    static let card = GGUFImage.Card(publisher: "cartridge tests")

    static func write(_ bytes: [UInt8], _ name: String, in directory: TemporaryDirectory) throws -> String {
        try directory.write(bytes, to: name)
    }

    static func greedy(_ model: LlamaModel, prompt: [Int32], count: Int) throws -> [Int32] {
        let session = model.makeSession()
        _ = try session.startGeneration(
            promptTokens: prompt, parameters: GenerationParameters(sampling: .greedy, maxTokens: count, stopAtEndOfSequence: false))
        var tokens: [Int32] = []
        while case .token(let id, _) = try session.nextToken() { tokens.append(id) }
        return tokens
    }

    @Test(arguments: [GGMLType.q8_0, .f16, .f32])
    func imageGeneratesExactlyAsTheGGUF(matrixType: GGMLType) throws {
        let directory = try TemporaryDirectory("gguf-image")
        let gguf = try Self.write(try SyntheticGGUFModel.fileBytes(matrixType: matrixType), "tiny.gguf", in: directory)
        let imagePath = directory.file("tiny.cart")
        try GGUFImage.burn(ggufPath: gguf, card: Self.card, signingKey: nil, to: imagePath)
        let image = try CartridgeImage.open(path: imagePath)
        #expect(image.manifest.family == "llama")
        #expect(image.manifest.architecture == "llama-gguf")
        #expect(image.manifest.name == "tiny-gguf")
        #expect(image.manifest.license == "MIT")
        // 14 layer matrices of the chosen type, the Q8_0 token embedding.
        #expect(image.manifest.quantization == (matrixType == .q8_0 ? "ggml:q8_0" : "ggml:\(matrixType.name.lowercased())+q8_0"))
        #expect(image.manifest.extra["source.gguf.sha256"]?.count == 64)
        #expect(image.manifest.extra["tokenizer.description"] == "gpt2-bpe/smollm")
        // Layer matrices keep the GGUF's type, byte for byte.
        let wq = try #require(image.tensor(named: "layers.0.wq"))
        if matrixType != .f32 { #expect(wq.info.type == .ggml(matrixType)) }

        let (fromImage, description) = try GGUFImage.makeModel(from: image, maximumWorkers: 1)
        let source = try GGUFImage.open(ggufPath: gguf)
        let direct = try source.model.makeModel(file: source.file, owner: source.mapping, maximumWorkers: 1)
        #expect(fromImage.config == direct.config)
        #expect(description.chatTemplate == SyntheticGGUFModel.chatTemplate)
        let prompt = try fromImage.promptTokens(for: "<|im_start|>user\nhello there<|im_end|>\n")
        #expect(prompt.first == 1, "the special-token text becomes <|im_start|> (id 1)")
        #expect(try direct.promptTokens(for: "<|im_start|>user\nhello there<|im_end|>\n") == prompt)
        let expected = try Self.greedy(direct, prompt: prompt, count: 24)
        #expect(expected.count == 24)
        #expect(try Self.greedy(fromImage, prompt: prompt, count: 24) == expected)
    }

    @Test func burningIsDeterministicAndTamperingIsRefused() throws {
        let directory = try TemporaryDirectory("gguf-image")
        let gguf = try Self.write(try SyntheticGGUFModel.fileBytes(), "tiny.gguf", in: directory)
        let first = try GGUFImage.burn(ggufPath: gguf, card: Self.card, signingKey: nil, to: directory.file("a.cart"))
        let second = try GGUFImage.burn(ggufPath: gguf, card: Self.card, signingKey: nil, to: directory.file("b.cart"))
        #expect(first == second)
        // Flip one byte in the tensor data: the digest no longer matches.
        var bytes = try readAll(directory.file("a.cart"))
        bytes[bytes.count - 4096] ^= 0x40
        let tampered = try directory.write(bytes, to: "tampered.cart")
        #expect(throws: ImageError.self) { try CartridgeImage.open(path: tampered) }
    }

    @Test func anotherArchitectureIsRefusedAtBurnTime() throws {
        let directory = try TemporaryDirectory("gguf-image")
        let gguf = try Self.write(try SyntheticGGUFModel.fileBytes(architecture: "gemma3"), "gemma.gguf", in: directory)
        do {
            try GGUFImage.burn(ggufPath: gguf, card: Self.card, signingKey: nil, to: directory.file("x.cart"))
            Issue.record("a gemma3 GGUF was burned")
        } catch {
            #expect(error.message.contains("architecture 'gemma3' is not supported"), "\(error)")
        }
        #expect(access(directory.file("x.cart"), F_OK) != 0, "nothing is written")
    }

    @Test(arguments: [GGMLType.iq4_NL, .q2_K, .tq2_0])
    func anUnsupportedTensorTypeIsRefusedAtBurnTime(type: GGMLType) throws {
        let directory = try TemporaryDirectory("gguf-image")
        // q2_K and tq2_0 need rows of 256: the tiny rows of 64 are refused by the reader already.
        let bytes: [UInt8]
        do { bytes = try SyntheticGGUFModel.fileBytes(unsupportedType: type) } catch { return }
        let gguf = try Self.write(bytes, "bad.gguf", in: directory)
        do {
            try GGUFImage.burn(ggufPath: gguf, card: Self.card, signingKey: nil, to: directory.file("x.cart"))
            Issue.record("a GGUF with a \(type.name) tensor was burned")
        } catch {
            #expect(error.message.contains(type.name), "\(error)")
        }
    }

    @Test func aTruncatedGGUFIsRefusedClearly() throws {
        let directory = try TemporaryDirectory("gguf-image")
        let bytes = try SyntheticGGUFModel.fileBytes()
        let gguf = try Self.write(Array(bytes[..<(bytes.count / 2)]), "cut.gguf", in: directory)
        do {
            try GGUFImage.burn(ggufPath: gguf, card: Self.card, signingKey: nil, to: directory.file("x.cart"))
            Issue.record("a truncated GGUF was burned")
        } catch {
            #expect(error.message.contains("GGUF"), "\(error)")
        }
    }

    func readAll(_ path: String) throws -> [UInt8] {
        let file = try MappedFile(path: path)
        return Array(file.bytes)
    }
}
