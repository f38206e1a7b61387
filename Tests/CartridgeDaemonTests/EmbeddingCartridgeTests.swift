import CartridgeClient
import CartridgeInference
import CartridgeTestSupport
import CartridgeWire
import Foundation
import Testing

/// The embedding cartridge as a user makes one: `cartridge burn --bert-model DIR`, then
/// `cartridged --image`, then EMBED through the client library; real processes throughout.
@Suite("embedding cartridge: burn, serve the image, EMBED", .serialized, .timeLimit(.minutes(3)))
struct EmbeddingCartridgeTests {
    static let sentences = ["The cat sat on the mat.", "A dog is on a rug!", "Stock markets fell", "?"]

    /// Burns the tiny BERT with the CLI; returns the image path and the digest the CLI printed.
    static func burnTinyBert(in directory: TemporaryDirectory) async throws -> (image: String, model: String, digest: String) {
        let model = try TinyBertModel.write(into: directory)
        let image = directory.file("tiny-bert.cart")
        let burn = try ChildProcess(
            "cartridge", ["burn", "--bert-model", model, "-o", image, "--license", "Apache-2.0", "--publisher", "tests"])
        let status = await burn.wait(timeout: .seconds(60))
        let output = burn.readOutput()
        #expect(status == 0, "cartridge burn failed: \(burn.readErrors())")
        let digest = output.split(separator: "\n").first { $0.hasPrefix("digest") }.map { String($0.split(separator: " ").last ?? "").replacingOccurrences(of: "sha256:", with: "") } ?? ""
        return (image, model, digest)
    }

    @Test func servesTheBurnedImageAndEmbedsAsTheEngineDoes() async throws {
        let directory = try TemporaryDirectory("embedding-e2e")
        let (image, model, digest) = try await Self.burnTinyBert(in: directory)
        #expect(digest.count == 64)
        let daemon = try await RunningDaemon(model: (["--image", image], directory))
        let cartridge = try await daemon.connect()
        #expect(cartridge.hello.capabilities.contains(.embed))
        #expect(!cartridge.hello.capabilities.contains(.generate))
        #expect(lowercaseHex(cartridge.hello.imageDigest) == digest)
        let card = try await cartridge.info()
        #expect(card.family == "bert")
        #expect(card.name == "tiny-bert")
        #expect(card.embeddingDimension == 16)
        #expect(card.contextLength == UInt32(TinyBertModel.maximumLength))
        #expect(card.licence == "Apache-2.0" && card.publisher == "tests")

        let vectors = try await cartridge.embed(Self.sentences)
        let expected = try SentenceEmbedder.load(directory: model).embed(Self.sentences)
        #expect(vectors.count == expected.count)
        for (got, want) in zip(vectors, expected) {
            #expect(got.count == 16)
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(got) vs \(want)")
        }
        // Different sentences get different vectors; the same sentence the same one.
        #expect(vectors[0] != vectors[1])
        #expect(try await cartridge.embed([Self.sentences[0]]) == [vectors[0]])

        // An encoder cartridge refuses GENERATE with UNSUPPORTED and keeps serving.
        do {
            _ = try await cartridge.generate(GenerateRequest(prompt: .text("hello"), maximumTokens: 4)).collect()
            Issue.record("GENERATE succeeded on an embedding cartridge")
        } catch let error as CartridgeClientError {
            #expect(error.deviceCode == .unsupported, "\(error)")
        }
        #expect(try await cartridge.embed([Self.sentences[2]]) == [vectors[2]])
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    /// TOKENIZE/DETOKENIZE with the WordPiece vocabulary (the gateway counts embedding usage with
    /// it): [CLS]/[SEP] by option, no truncation (EMBED cuts to context_length), `##` pieces joined.
    @Test func tokenizesWithItsWordPieceVocabulary() async throws {
        let directory = try TemporaryDirectory("embedding-tokenize")
        let (image, _, _) = try await Self.burnTinyBert(in: directory)
        let daemon = try await RunningDaemon(model: (["--image", image], directory))
        let cartridge = try await daemon.connect()
        #expect(cartridge.hello.capabilities.contains(.tokenize))
        let plain = try await cartridge.tokenize("The cats sat.")
        #expect(plain == Self.ids(["the", "cat", "##s", "sat", "."]))
        let framed = try await cartridge.tokenize("The cats sat.", options: [.addBeginning, .addEnd])
        #expect(framed == Self.ids(["[CLS]", "the", "cat", "##s", "sat", ".", "[SEP]"]))
        let ended = try await cartridge.tokenize("a cat", options: .addEnd)
        #expect(ended == Self.ids(["a", "cat", "[SEP]"]))
        let long = try await cartridge.tokenize(String(repeating: "the cat sat on the mat ", count: 5), options: [.addBeginning, .addEnd])
        #expect(long.count == 32, "no truncation at context_length \(TinyBertModel.maximumLength)")
        let text = try await cartridge.detokenize(Self.ids(["[CLS]", "the", "cat", "##s", "fell", "##ed", "!"]))
        #expect(text == "[CLS] the cats felled !")
        var refused: ErrorCode?
        do { _ = try await cartridge.detokenize([UInt32(TinyBertModel.vocabulary.count)]) } catch { refused = error.deviceCode }
        #expect(refused == .invalidArgument, "an id outside the vocabulary")
        // GENERATE (even with a text prompt) stays unsupported.
        var generateRefused: ErrorCode?
        do { _ = try await cartridge.generate(GenerateRequest(prompt: .text("hello"), maximumTokens: 4)).collect() } catch {
            generateRefused = (error as? CartridgeClientError)?.deviceCode
        }
        #expect(generateRefused == .unsupported)
        cartridge.close()
        #expect(await daemon.stop() == 0)
    }

    /// Ids of the tiny BERT's vocabulary pieces.
    static func ids(_ pieces: [String]) -> [UInt32] {
        pieces.map { piece in TinyBertModel.vocabulary.firstIndex(of: piece).map { UInt32($0) } ?? .max }
    }

    @Test func theCLIPrintsASimilarityMatrixFromTheImage() async throws {
        let directory = try TemporaryDirectory("embedding-e2e")
        let (image, _, _) = try await Self.burnTinyBert(in: directory)
        let daemon = try await RunningDaemon(model: (["--image", image], directory))
        let embed = try ChildProcess("cartridge", ["embed", "The cat sat.", "The dog sat.", "--connect", "unix:\(daemon.socketPath)"])
        #expect(await embed.wait(timeout: .seconds(30)) == 0)
        let output = embed.readOutput()
        // A 2×2 matrix with 1.000 on the diagonal.
        #expect(output.components(separatedBy: "1.000").count - 1 == 2, "\(output)")
        #expect(await daemon.stop() == 0)
    }

    @Test func aTamperedImageIsRefusedBeforeTheDaemonListens() async throws {
        let directory = try TemporaryDirectory("embedding-e2e")
        let (image, _, _) = try await Self.burnTinyBert(in: directory)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image)))
        bytes[bytes.count / 2] ^= 0x01  // inside the tensor data
        let tampered = try directory.write(bytes, to: "tampered.cart")
        do {
            _ = try await RunningDaemon(model: (["--image", tampered], directory))
            Issue.record("cartridged served a tampered image")
        } catch let failure as DaemonFailure {
            #expect(failure.description.contains("digest"), "\(failure)")
        }
    }
}
