import CartridgeInference
import Testing

/// Expected ids come from llama2.c's own `encode` (run.c @ 350e04f, patched only to print the
/// prompt ids: `ENCODE_ONLY=1 ./runids model.bin -z llama2-tokenizer.bin -i TEXT`), BOS included.
private let llama2Encodings: [(text: String, ids: [Int32])] = [
    ("", [1]),
    (" ", [1, 259]),
    ("   ", [1, 268]),
    ("\n", [1, 29871, 13]),
    ("\n\n", [1, 29871, 13, 13]),
    ("Hello world", [1, 15043, 3186]),
    ("Once upon a time", [1, 9038, 2501, 263, 931]),
    ("  leading spaces", [1, 259, 8236, 8162]),
    ("trailing  ", [1, 25053, 259]),
    ("line one\nline two\n", [1, 1196, 697, 13, 1220, 1023, 13]),
    ("tabs\tand\tspaces", [1, 18859, 12, 392, 12, 22854]),
    ("héllo wörld", [1, 298, 3610, 417, 281, 1340, 430]),
    ("日本語のテキスト", [1, 29871, 30325, 30346, 30968, 30199, 30572, 30454, 30255, 30279]),
    ("emoji 🤖🚀!", [1, 953, 29877, 2397, 29871, 243, 162, 167, 153, 243, 162, 157, 131, 29991]),
    ("Ünïcödé ÇÃ", [1, 7189, 29876, 30085, 29883, 9289, 29948, 29871, 30219, 30179]),
    ("<0x41> and <s>", [1, 529, 29900, 29916, 29946, 29896, 29958, 322, 529, 29879, 29958]),
    ("a\u{0300} combining", [1, 263, 30712, 29299]),
    ("1234567890 + 3.14159", [1, 29871, 29896, 29906, 29941, 29946, 29945, 29953, 29955, 29947, 29929, 29900, 718, 29871, 29941, 29889, 29896, 29946, 29896, 29945, 29929]),
    ("Привет, мир", [1, 7203, 7616, 29892, 4157, 29927]),
]

@Suite("LlamaTokenizer")
struct TokenizerTests {
    static let tokenizer: LlamaTokenizer? = try? SharedModels.llama2Tokenizer.map { try LlamaTokenizer(path: $0, vocabSize: 32000) }

    @Test("encodes like llama2.c", .enabled(if: tokenizer != nil, Comment(rawValue: SharedModels.missingReason)),
          arguments: llama2Encodings)
    func encodesLikeLlama2c(_ text: String, _ ids: [Int32]) throws {
        let tokenizer = try #require(Self.tokenizer)
        #expect(tokenizer.encode(text, addBOS: true) == ids)
        #expect(tokenizer.encode(text, addBOS: false, addEOS: true) == Array(ids.dropFirst()) + [2])
    }

    @Test("decoding the encoding gives the text back", .enabled(if: tokenizer != nil, Comment(rawValue: SharedModels.missingReason)),
          arguments: llama2Encodings)
    func roundTrips(_ text: String, _ ids: [Int32]) throws {
        let tokenizer = try #require(Self.tokenizer)
        #expect(tokenizer.decode(ids) == text)
    }

    @Test("decode: space stripped after BOS only, raw byte tokens", .enabled(if: tokenizer != nil, Comment(rawValue: SharedModels.missingReason)))
    func decodeRules() throws {
        let tokenizer = try #require(Self.tokenizer)
        #expect(tokenizer.bytes(for: 15043, after: 1) == Array("Hello".utf8)[...])
        #expect(tokenizer.bytes(for: 15043, after: 13) == Array(" Hello".utf8)[...])
        #expect(tokenizer.pieces[13] == Array("<0x0A>".utf8))
        #expect(tokenizer.bytes(for: 13, after: 1) == [0x0A])
        #expect(tokenizer.bytes(for: 243, after: nil) == [0xF0])
        #expect(tokenizer.bytes(for: 40000, after: nil).isEmpty)
        #expect(tokenizer.decode([243]) == "\u{FFFD}")
    }

    @Test("a vocabulary without the piece for a character falls back to byte tokens")
    func byteFallback() throws {
        // 259 pieces: <unk>, <s>, </s>, <0x00>...<0xFF>, then " " and "a".
        var pieces: [[UInt8]] = [Array("<unk>".utf8), Array("<s>".utf8), Array("</s>".utf8)]
        for byte in 0..<256 { pieces.append(Array("<0x\(String(byte, radix: 16, uppercase: true).count == 1 ? "0" : "")\(String(byte, radix: 16, uppercase: true))>".utf8)) }
        pieces += [[0x20], [0x61], [0x20, 0x61]]
        let tokenizer = try LlamaTokenizer(bytes: Self.file(pieces: pieces, scores: pieces.indices.map { Float($0) }))
        #expect(tokenizer.encode("a é", addBOS: true) == [1, 261, 259, 0xC3 + 3, 0xA9 + 3])
        #expect(tokenizer.decode([1, 261, 259, 0xC3 + 3, 0xA9 + 3]) == "a é")
    }

    @Test("malformed tokenizer files are rejected", arguments: [
        ([0, 0, 0, 0], "max_token_length"),
        ([4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0x61], "length 9"),
        ([4, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x61], "truncated"),
        ([4, 0, 0, 0, 0, 0], "truncated"),
        ([4, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], "length -1"),
        ([4, 0, 0, 0], "empty"),
    ] as [([UInt8], String)])
    func malformed(_ bytes: [UInt8], _ expected: String) {
        #expect {
            try bytes.withUnsafeBytes { try LlamaTokenizer(bytes: $0) }
        } throws: { error in
            guard let error = error as? InferenceError else { return false }
            return error.code == .malformedTokenizer && error.message.contains(expected)
        }
    }

    @Test("too few tokens for the model's vocabulary is an error")
    func shortVocabulary() throws {
        let bytes = Self.file(pieces: [[0x61]], scores: [0])
        #expect(throws: InferenceError.self) { try LlamaTokenizer(bytes: bytes, vocabSize: 2) }
        #expect(try LlamaTokenizer(bytes: bytes, vocabSize: 1).vocabSize == 1)
    }

    static func file(pieces: [[UInt8]], scores: [Float]) -> UnsafeRawBufferPointer {
        var bytes: [UInt8] = []
        func int32(_ value: Int32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        int32(Int32(pieces.map(\.count).max() ?? 1))
        for (piece, score) in zip(pieces, scores) {
            withUnsafeBytes(of: score.bitPattern.littleEndian) { bytes += $0 }
            int32(Int32(piece.count))
            bytes += piece
        }
        // Leaked on purpose: a few bytes per test, and the tokenizer copies what it keeps.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        buffer.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: bytes.count))
        return UnsafeRawBufferPointer(buffer)
    }
}
