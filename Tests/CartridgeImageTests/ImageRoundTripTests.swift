import CartridgeTestSupport
import Testing

@testable import CartridgeImage

@Suite struct ImageRoundTripTests {
    @Test func burnedImageOpensWithManifestTensorsAndTokenizer() throws {
        let directory = try TemporaryDirectory("image")
        let path = directory.file("synthetic.cart")
        let digest = try SyntheticImage.withBurner { try $0.burn(to: path) }
        let image = try CartridgeImage.open(path: path)

        #expect(image.digest == digest)
        #expect(image.digest.hex.count == 64)
        #expect(image.manifest.name == "synthetic")
        #expect(image.manifest.hyperparameters == ["dim": 16, "layers": 1])
        #expect(image.manifest.parameterCount == 8 * 16 + 16 + 4 * 32)
        #expect(image.manifest.quantization == "mixed")
        #expect(image.manifest.extra == ["description": "a synthetic image"])
        #expect(Array(image.tokenizerBlob) == SyntheticImage.tokenizer)
        #expect(image.tensors.map(\.name) == ["embedding", "norm", "projection"])
        #expect(image.signature == nil)

        let embedding = try #require(image.tensor(named: "embedding"))
        #expect(embedding.info.shape == [8, 16])
        #expect(Array(try #require(embedding.float32Values)) == SyntheticImage.matrix)
        #expect(Int(bitPattern: embedding.bytes.baseAddress!) % 64 == 0)
        #expect(Array(try #require(image.tensor(named: "norm")?.float32Values)) == SyntheticImage.vector)

        let projection = try #require(image.tensor(named: "projection")?.q8_0)
        #expect(projection.groupSize == 16)
        #expect(projection.scales.count == 4 * 32 / 16)
        for (index, value) in SyntheticImage.quantized.enumerated() {
            let restored = Float(projection.quants[index]) * projection.scales[index / 16]
            #expect(abs(restored - value) <= projection.scales[index / 16] / 2 + 1e-6)
        }
        #expect(image.tensor(named: "missing") == nil)
    }

    @Test func sectionsAndTensorsAreAligned() throws {
        let header = try SyntheticImage.layout(try SyntheticImage.bytes())
        for section in [header.manifest, header.tensorTable, header.tokenizer, header.data] {
            #expect(section.lowerBound % 4096 == 0)
        }
        #expect(header.trailerOffset % 64 == 0)
        #expect(header.fileLength == header.trailerOffset + 144)
    }

    @Test func burningTwiceGivesIdenticalBytes() throws {
        let directory = try TemporaryDirectory("image")
        let first = directory.file("first.cart"), second = directory.file("second.cart")
        try SyntheticImage.withBurner { _ = try $0.burn(to: first) }
        try SyntheticImage.withBurner { _ = try $0.burn(to: second) }
        let a = try readSmallFile(first, limit: 1 << 24, what: "image")
        let b = try readSmallFile(second, limit: 1 << 24, what: "image")
        #expect(a.count > 4 * 4096)
        #expect(a == b)
        #expect(a == (try SyntheticImage.bytes()))

        let key = try ImageSigningKey(seed: Array(repeating: 7, count: 32), name: "test publisher")
        #expect(try SyntheticImage.bytes(signingKey: key) == (try SyntheticImage.bytes(signingKey: key)))
    }

    @Test func burnRefusesToOverwrite() throws {
        let directory = try TemporaryDirectory("image")
        let path = directory.file("once.cart")
        try SyntheticImage.withBurner { _ = try $0.burn(to: path) }
        let error = #expect(throws: ImageError.self) { try SyntheticImage.withBurner { _ = try $0.burn(to: path) } }
        #expect(error?.code == .writeFailed)
    }

    @Test func burnerRejectsInconsistentInputs() throws {
        let values: [Float] = Array(repeating: 1, count: 10)
        values.withUnsafeBufferPointer { buffer in
            let cases: [(ImageTensorInput, String)] = [
                (.float32("a", shape: [3, 3], buffer), "9"),
                (ImageTensorInput(name: "b", shape: [2, 5], source: .float32(buffer), storedAs: .q8_0(groupSize: 3)), "group size 3"),
                (.float32("", shape: [10], buffer), "name"),
                (.float32("c", shape: [], buffer), "rank"),
            ]
            for (tensor, fragment) in cases {
                let burner = ImageBurner(manifest: SyntheticImage.manifest(), tokenizer: [1], tensors: [tensor])
                let error = #expect(throws: ImageError.self) { try burner.imageBytes() }
                #expect(error?.code == .invalidInput)
                #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
            }
            let twice = ImageBurner(
                manifest: SyntheticImage.manifest(), tokenizer: [1],
                tensors: [.float32("same", shape: [10], buffer), .float32("same", shape: [10], buffer)])
            #expect(throws: ImageError.self) { try twice.imageBytes() }
        }
    }
}
