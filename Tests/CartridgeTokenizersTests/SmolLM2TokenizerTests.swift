import CartridgeTokenizers
import Testing

/// The SmolLM2 tokenizer (byte-level BPE, smollm pre-tokenizer) on the real vocabulary, and the
/// other pre-tokenizers on the same vocabulary, against Hugging Face `tokenizers`.
@Suite(.serialized, .enabled(if: SmolLM2Reference.isAvailable, Comment(rawValue: SmolLM2Reference.missingReason)))
struct SmolLM2TokenizerTests {
    @Test("the file's metadata: smollm pre-tokenizer, 49,152 tokens, special tokens 0-16")
    func metadata() throws {
        let tokenizer = try #require(SmolLM2Reference.smolLM2)
        #expect(tokenizer.preTokenizer.name == "smollm")
        #expect(tokenizer.vocabularySize == 49_152)
        #expect(tokenizer.mergeCount == 48_900)
        #expect(tokenizer.bosID == 1)
        #expect(tokenizer.eosID == 2)
        #expect(tokenizer.unknownID == 0)
        #expect(!tokenizer.addBOS && !tokenizer.addEOS)
        #expect(tokenizer.endOfGenerationIDs == [0, 2])  // <|endoftext|>, <|im_end|>
        #expect(tokenizer.id(forToken: "<|im_start|>") == 1)
        #expect(tokenizer.id(forToken: "Ġthe") == 260)
        #expect(tokenizer.id(forToken: " the") == nil)
        #expect((0...16).allSatisfy { tokenizer.tokenTypes[$0] == .control })
    }

    @Test("\"12345 3.14159\" gives llama.cpp's ids")
    func digitsOneByOne() throws {
        let tokenizer = try #require(SmolLM2Reference.smolLM2)
        #expect(tokenizer.encode("12345 3.14159", addSpecial: true, parseSpecial: true) == [33, 34, 35, 36, 37, 216, 35, 30, 33, 36, 33, 37, 41])
    }

    @Test("ids equal Hugging Face tokenizers' for every fixture text", arguments: ["smollm", "gpt2", "llama-bpe", "qwen2"])
    func idsMatchReference(_ variant: String) throws {
        let fixture = try SmolLM2Reference.fixture()
        let expected = try #require(fixture.variants[variant])
        try #require(expected.parseSpecial.count == fixture.texts.count && expected.plain.count == fixture.texts.count)
        #expect(fixture.texts.count >= 40)
        let tokenizer = try #require(SmolLM2Reference.variants[variant])
        for (index, text) in fixture.texts.enumerated() {
            #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: true) == expected.parseSpecial[index],
                    "\(variant) parseSpecial, text \(index) \(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: false) == expected.plain[index],
                    "\(variant) plain, text \(index) \(text.debugDescription)")
        }
    }

    @Test("decoding the encoding gives the text back (less the 21 bytes SmolLM2 has no token for)",
          arguments: ["smollm", "gpt2", "llama-bpe", "qwen2"])
    func roundTrip(_ variant: String) throws {
        let fixture = try SmolLM2Reference.fixture()
        let tokenizer = try #require(SmolLM2Reference.variants[variant])
        // Bytes whose alphabet character is not a token are dropped (as tokenizers and llama.cpp do).
        let missing = Set((0...255).map(UInt8.init).filter { byte in
            tokenizer.encode(String(decoding: [byte], as: UTF8.self), addSpecial: false, parseSpecial: false).isEmpty
                && byte < 0x80
        })
        #expect(missing == [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D])
        var exceptions = 0
        for text in fixture.texts {
            let bytes = Array(text.utf8)
            let kept = bytes.filter { !missing.contains($0) }
            let special = tokenizer.bytes(for: tokenizer.encode(text, addSpecial: false, parseSpecial: true), renderSpecial: true)
            let plain = tokenizer.bytes(for: tokenizer.encode(text, addSpecial: false, parseSpecial: false), renderSpecial: false)
            if kept == bytes && !text.unicodeScalars.contains(where: { $0.value >= 0x40000 && $0.value < 0xC0000 }) {
                #expect(special == bytes, "\(variant) \(text.debugDescription)")
                #expect(plain == bytes, "\(variant) \(text.debugDescription)")
            } else {
                exceptions += 1
                #expect(special.count < bytes.count)
            }
        }
        #expect(exceptions == 2)  // the ASCII-controls text and the plane-5 text
    }

    @Test("a rendered chat conversation: markers are control tokens, rendered only on request")
    func chatConversation() throws {
        let tokenizer = try #require(SmolLM2Reference.smolLM2)
        let text = "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
        let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        #expect(ids.first == 1)
        #expect(ids.filter { $0 == 1 }.count == 2)
        #expect(ids.filter { $0 == 2 }.count == 1)
        #expect(tokenizer.decode(ids, renderSpecial: true) == text)
        #expect(tokenizer.decode(ids) == "user\nHi!\nassistant\n")
        #expect(tokenizer.bytes(for: 2, renderSpecial: false).isEmpty)
        #expect(tokenizer.bytes(for: 2, renderSpecial: true) == Array("<|im_end|>".utf8))
        // Without parseSpecial the markers are text, spelled with ordinary tokens.
        let plain = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        #expect(!plain.contains(1) && !plain.contains(2))
        #expect(tokenizer.decode(plain) == text)
    }

    @Test("a 4 KiB English text encodes and decodes back, cold and with the word cache")
    func speed() throws {
        let metadata = try #require(SmolLM2Reference.metadata)
        let tokens = metadata.strings("tokenizer.ggml.tokens") ?? []
        let types = metadata.integers("tokenizer.ggml.token_type")
        let merges = metadata.strings("tokenizer.ggml.merges") ?? []
        let clock = ContinuousClock()
        var fresh: ByteLevelBPETokenizer?  // a new one: its word cache starts empty
        let build = try clock.measure {
            fresh = try ByteLevelBPETokenizer(
                tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: "smollm", bosID: 1, eosID: 2, eotID: nil, unknownID: 0,
                addBOS: false, addEOS: false)
        }
        let tokenizer = try #require(fresh)
        let paragraph = "It was the best of times, it was the worst of times; 1,234 people (give or take) didn't agree.\n"
        var text = ""
        while text.utf8.count < 4096 { text += paragraph }
        var ids: [Int32] = []
        let cold = clock.measure { ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true) }
        let warm = clock.measure { ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true) }
        print("SmolLM2 tokenizer built from the GGUF arrays in \(build); 4 KiB text: \(ids.count) tokens, \(cold) cold, \(warm) with the word cache")
        #expect(tokenizer.decode(ids) == text)
        // Speed is measured by the benchmarks (release takes about a millisecond), not asserted here.
    }
}
