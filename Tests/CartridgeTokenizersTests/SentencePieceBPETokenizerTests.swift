import CartridgeTokenizers
import Foundation
import Glibc

import Testing

/// The Llama 2 vocabulary of shared/models/llama2-tokenizer.bin (llama2.c format, never committed),
/// turned into the GGUF form a `SentencePieceBPETokenizer` is built from: "▁" for spaces, "<s>"/"</s>"
/// for llama2.c's "\n<s>\n"/"\n</s>\n", token types unknown/control/byte/normal.
enum Llama2Vocabulary {
    static let path: String? = {
        let repository = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))
        return [repository + "/../shared/models/llama2-tokenizer.bin", "/work/shared/models/llama2-tokenizer.bin"]
            .first { access($0, R_OK) == 0 }
    }()

    static let missingReason = "shared/models/llama2-tokenizer.bin not found next to the repository"

    static let tokenizer: SentencePieceBPETokenizer? = {
        guard let path else {
            print("skipping SentencePiece tokenizer tests: \(missingReason)")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        func int32(_ offset: Int) -> Int32 { Int32(bitPattern: bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }) }
        var tokens: [String] = []
        var scores: [Float] = []
        var offset = 4
        while offset + 8 <= bytes.count, tokens.count < 32_000 {
            let score = Float(bitPattern: UInt32(bitPattern: int32(offset)))
            let length = Int(int32(offset + 4))
            guard length >= 0, offset + 8 + length <= bytes.count else { return nil }
            let piece = String(decoding: bytes[offset + 8..<offset + 8 + length], as: UTF8.self)
            tokens.append(piece.replacingOccurrences(of: " ", with: "\u{2581}"))
            scores.append(score)
            offset += 8 + length
        }
        guard tokens.count == 32_000 else { return nil }
        tokens[1] = "<s>"
        tokens[2] = "</s>"
        let types: [Int32] = (0..<32_000).map { id in id == 0 ? 2 : id < 3 ? 3 : id < 259 ? 6 : 1 }
        return try? SentencePieceBPETokenizer(
            tokens: tokens, scores: scores, tokenTypes: types, bosID: 1, eosID: 2, eotID: nil, unknownID: 0,
            addBOS: true, addEOS: false, addSpacePrefix: true)
    }()

    struct Fixture: Decodable {
        var texts: [String]
        var ids: [[Int32]]
    }

    static func fixture() throws -> Fixture {
        let directory = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/Fixtures/llama2-spm-reference.json"))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }
}

@Suite("SentencePieceBPETokenizer", .enabled(if: Llama2Vocabulary.path != nil, Comment(rawValue: Llama2Vocabulary.missingReason)))
struct SentencePieceBPETokenizerTests {
    @Test("ids equal llama2.c's encode (LlamaTokenizer's algorithm) for every fixture text")
    func idsMatchLlama2c() throws {
        let tokenizer = try #require(Llama2Vocabulary.tokenizer)
        let fixture = try Llama2Vocabulary.fixture()
        try #require(fixture.texts.count == fixture.ids.count && fixture.texts.count >= 40)
        for (text, expected) in zip(fixture.texts, fixture.ids) {
            #expect(tokenizer.encode(text, addSpecial: true, parseSpecial: false) == expected, "\(text.debugDescription)")
        }
        #expect(tokenizer.encode("Hello world", addSpecial: true, parseSpecial: false) == [1, 15043, 3186])
        #expect(tokenizer.encode("", addSpecial: true, parseSpecial: false) == [1])
        #expect(tokenizer.encode("", addSpecial: false, parseSpecial: false) == [])
    }

    @Test("decoding gives the text back, with the dummy-prefix space first")
    func roundTrip() throws {
        let tokenizer = try #require(Llama2Vocabulary.tokenizer)
        for text in try Llama2Vocabulary.fixture().texts where !text.isEmpty {
            let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
            let bytes = tokenizer.bytes(for: ids, renderSpecial: false)
            #expect(bytes == Array((" " + text).utf8), "\(text.debugDescription)")
        }
        // A literal "▁" in the text is the space mark: it comes back as a space (llama.cpp too).
        let marked = tokenizer.encode("\u{2581}x\u{2581}", addSpecial: false, parseSpecial: false)
        #expect(marked == tokenizer.encode(" x ", addSpecial: false, parseSpecial: false))
        #expect(tokenizer.decode(marked) == "  x ")
        #expect(tokenizer.bytes(for: 13, renderSpecial: false) == [0x0A])  // <0x0A>
        #expect(tokenizer.bytes(for: 1, renderSpecial: false) == [])
        #expect(tokenizer.bytes(for: 1, renderSpecial: true) == Array("<s>".utf8))
        #expect(tokenizer.bytes(for: 32_000, renderSpecial: true) == [])
    }

    @Test("special tokens: split out with parseSpecial, a space prefix after each one (as llama.cpp)")
    func specialTokens() throws {
        let tokenizer = try #require(Llama2Vocabulary.tokenizer)
        let literal = tokenizer.encode("literal", addSpecial: false, parseSpecial: false)
        #expect(tokenizer.encode("<s>literal</s>", addSpecial: false, parseSpecial: true) == [1] + literal + [2])
        #expect(tokenizer.encode("<s>literal</s>", addSpecial: true, parseSpecial: true) == [1, 1] + literal + [2])
        #expect(!tokenizer.encode("<s>literal</s>", addSpecial: false, parseSpecial: false).contains(1))
        #expect(tokenizer.endOfGenerationIDs == [2])
        #expect(tokenizer.id(forToken: "▁the") == 278)
    }

    @Test("without the space prefix, text starts with no ▁")
    func noSpacePrefix() throws {
        let tokenizer = try SentencePieceBPETokenizer(
            tokens: ["<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "▁ab", "<0x41>"], scores: [0, 0, 0, -1, -2, -2, -3, -4, 0],
            tokenTypes: [2, 3, 3, 1, 1, 1, 1, 1, 6], bosID: 1, eosID: 2, eotID: nil, unknownID: 0, addBOS: true, addEOS: true,
            addSpacePrefix: false)
        #expect(tokenizer.encode("ab ab", addSpecial: true, parseSpecial: false) == [1, 6, 7, 2])
        // "A" is no token: its byte token; "c" has no byte token either: unknown.
        #expect(tokenizer.encode("Ac", addSpecial: false, parseSpecial: false) == [8, 0])
        #expect(tokenizer.decode([6, 7, 8]) == "ab abA")
    }

    @Test("malformed metadata is refused")
    func refusals() {
        #expect(throws: TokenizerError.self) {
            try SentencePieceBPETokenizer(tokens: ["a"], scores: [0, 1], tokenTypes: nil, bosID: nil, eosID: nil, eotID: nil,
                                          unknownID: nil, addBOS: false, addEOS: false)
        }
        #expect(throws: TokenizerError.self) {
            try SentencePieceBPETokenizer(tokens: [], scores: nil, tokenTypes: nil, bosID: nil, eosID: nil, eotID: nil,
                                          unknownID: nil, addBOS: false, addEOS: false)
        }
        #expect(throws: TokenizerError.self) {
            try SentencePieceBPETokenizer(tokens: ["a"], scores: nil, tokenTypes: nil, bosID: 1, eosID: nil, eotID: nil,
                                          unknownID: nil, addBOS: false, addEOS: false)
        }
    }
}
