import CartridgeTestSupport
import Testing

@testable import CartridgeImage

@Suite struct BertImageTests {
    /// A safetensors file with an F32, an F16 and a BF16 tensor (names deliberately unsorted).
    static func safetensors(headerPadding: Int = 0, corruptOffsets: Bool = false) -> [UInt8] {
        let f32: [Float] = [1, -2, 3.5, 0.25, 8, -0.5]
        let f16: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x0000]  // 1, -2, 0.5, 0
        let bf16: [UInt16] = [0x3F80, 0xC000]  // 1, -2
        let end = corruptOffsets ? 9999 : 24
        var json = """
            {"word_embeddings.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,\(end)]},\
            "layer.0.dense.weight":{"dtype":"F16","shape":[2,2],"data_offsets":[24,32]},\
            "layer.0.norm.bias":{"dtype":"BF16","shape":[2],"data_offsets":[32,36]},\
            "__metadata__":{"format":"pt"}}
            """
        json += String(repeating: " ", count: headerPadding)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes += $0 }
        bytes += Array(json.utf8)
        f32.withUnsafeBytes { bytes += $0 }
        f16.withUnsafeBytes { bytes += $0 }
        bf16.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    @Test func burnsSafetensorsAndVocabulary() throws {
        let directory = try TemporaryDirectory("bert-image")
        let model = try directory.write(Self.safetensors(headerPadding: 1), to: "model.safetensors")  // odd data alignment
        let vocabulary = try directory.write(Array("[PAD]\n[UNK]\nhello\nworld\n".utf8), to: "vocab.txt")
        let path = directory.file("bert.cart")
        let card = LlamaImage.Card(name: "tiny-bert", license: "Apache-2.0", publisher: "tests")
        try BertImage.burn(
            safetensorsPath: model, vocabularyPath: vocabulary, hyperparameters: ["hidden": 3, "layers": 1], contextLength: 16,
            card: card, signingKey: nil, to: path)
        let image = try CartridgeImage.open(path: path)
        #expect(image.manifest.family == "bert")
        #expect(image.manifest.vocabularySize == 4)
        #expect(image.manifest.tokenizerKind == "wordpiece-vocab")
        #expect(image.manifest.quantization == "mixed")
        #expect(image.tensors.map(\.name) == ["layer.0.dense.weight", "layer.0.norm.bias", "word_embeddings.weight"])
        #expect(Array(try #require(image.tensor(named: "word_embeddings.weight")?.float32Values)) == [1, -2, 3.5, 0.25, 8, -0.5])
        #expect(Array(try #require(image.tensor(named: "layer.0.norm.bias")?.float32Values)) == [1, -2])
        let f16 = try #require(image.tensor(named: "layer.0.dense.weight"))
        #expect(f16.info.type == .float16)
        #expect(Array(f16.bytes) == [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x00, 0x00])
        #expect(Array(image.tokenizerBlob) == Array("[PAD]\n[UNK]\nhello\nworld\n".utf8))
    }

    @Test func refusesMalformedSafetensors() throws {
        let directory = try TemporaryDirectory("bert-image")
        for (name, bytes) in [("offsets", Self.safetensors(corruptOffsets: true)), ("short", [1, 2, 3]), ("huge", [0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0x7B])] {
            let path = try directory.write(bytes, to: name + ".safetensors")
            let error = #expect(throws: ImageError.self) { try SafetensorsFile(path: path) }
            #expect(error?.code == .malformedSource, "\(name)")
        }
    }
}
