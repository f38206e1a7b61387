import CartridgeInference
import CartridgeTestSupport
import Foundation
import Testing

@testable import CartridgeImage

/// Issue 13, defect 9: sentence-transformers truncates at sentence_bert_config.json's
/// max_seq_length, not at tokenizer.json's truncation; the cartridge does the same, records the
/// length in the image and reports it as the context length.
@Suite struct SentenceTransformersLengthTests {
    static let long = String(repeating: "red ", count: 40)

    func modelDirectory(maximumSequenceLength: Int?) throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory("st-length")
        let model = try TinyBertModel.write(into: directory)
        if let maximumSequenceLength {
            try Data(#"{"max_seq_length": \#(maximumSequenceLength), "do_lower_case": false}"#.utf8)
                .write(to: URL(fileURLWithPath: model + "/sentence_bert_config.json"))
        }
        return (directory, model)
    }

    @Test func maximumSequenceLengthOverridesTheTokenizerTruncation() throws {
        // tokenizer.json truncates at 10; the encoder has 16 positions; sentence-transformers says 14.
        let (directory, model) = try modelDirectory(maximumSequenceLength: 14)
        let fromDirectory = try SentenceEmbedder.load(directory: model)
        #expect(fromDirectory.maximumTokens == 14)
        #expect(fromDirectory.tokenizer.encode(Self.long).count == 14)

        let path = directory.file("st.cart")
        try BertImage.burn(modelDirectory: model, card: BertImageTests.card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        #expect(image.manifest.contextLength == 14)
        #expect(image.manifest.extra[BertImage.maximumSequenceLengthKey] == "14")
        #expect(image.manifest.extra["source.sentence_bert_config.sha256"]?.count == 64)
        let fromImage = try BertImage.makeEmbedder(from: image)
        #expect(fromImage.maximumTokens == 14)
        #expect(fromImage.tokenizer.encode(Self.long) == fromDirectory.tokenizer.encode(Self.long))
        #expect(try fromImage.embed([Self.long]) == fromDirectory.embed([Self.long]))
    }

    @Test func aLengthAboveThePositionsIsClampedToThem() throws {
        let (directory, model) = try modelDirectory(maximumSequenceLength: 256)
        #expect(try SentenceEmbedder.load(directory: model).maximumTokens == TinyBertModel.config.maximumPositions)
        let path = directory.file("clamped.cart")
        try BertImage.burn(modelDirectory: model, card: BertImageTests.card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        #expect(image.manifest.contextLength == TinyBertModel.config.maximumPositions)
        #expect(try BertImage.makeEmbedder(from: image).maximumTokens == TinyBertModel.config.maximumPositions)
    }

    @Test func withoutTheFileTheTokenizerTruncationStays() throws {
        let (directory, model) = try modelDirectory(maximumSequenceLength: nil)
        #expect(try SentenceEmbedder.load(directory: model).maximumTokens == TinyBertModel.maximumLength)
        let path = directory.file("plain.cart")
        try BertImage.burn(modelDirectory: model, card: BertImageTests.card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        #expect(image.manifest.extra[BertImage.maximumSequenceLengthKey] == nil)
        #expect(try BertImage.makeEmbedder(from: image).maximumTokens == TinyBertModel.maximumLength)
    }

    @Test(arguments: [#"{"max_seq_length": 1}"#, #"{"do_lower_case": true}"#, "not json"])
    func aBadConfigIsRefused(text: String) throws {
        let (directory, model) = try modelDirectory(maximumSequenceLength: nil)
        try Data(text.utf8).write(to: URL(fileURLWithPath: model + "/sentence_bert_config.json"))
        #expect(throws: (any Error).self) { try SentenceEmbedder.load(directory: model) }
        #expect(throws: ImageError.self) {
            try BertImage.burn(modelDirectory: model, card: BertImageTests.card, signingKey: nil, to: directory.file("bad.cart"))
        }
    }
}
