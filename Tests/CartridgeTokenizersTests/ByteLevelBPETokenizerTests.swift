import CartridgeTokenizers
import Testing

/// GPT-2's byte alphabet: the character standing for each byte ("Ġ" for a space).
private let byteCharacters: [String] = {
    var result: [String] = []
    var next: UInt32 = 256
    for byte in UInt32(0)..<256 {
        if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
            result.append(String(Unicode.Scalar(byte)!))
        } else {
            result.append(String(Unicode.Scalar(next)!))
            next += 1
        }
    }
    return result
}()

/// A small vocabulary: the 256 byte tokens (id = byte), then `extra` tokens from id 256.
private func tokenizer(
    extra: [(String, TokenType)] = [], merges: [String] = [], preTokenizer: String = "gpt2",
    bosID: Int32? = nil, eosID: Int32? = nil, eotID: Int32? = nil, addBOS: Bool = false, addEOS: Bool = false
) throws(TokenizerError) -> ByteLevelBPETokenizer {
    try ByteLevelBPETokenizer(
        tokens: byteCharacters + extra.map(\.0),
        tokenTypes: Array(repeating: TokenType.normal.rawValue, count: 256) + extra.map(\.1.rawValue),
        merges: merges, preTokenizer: preTokenizer, bosID: bosID, eosID: eosID, eotID: eotID, unknownID: nil,
        addBOS: addBOS, addEOS: addEOS)
}

private func ids(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }

@Suite("ByteLevelBPETokenizer")
struct ByteLevelBPETokenizerTests {
    @Test("bytes map to the GPT-2 alphabet and decode back")
    func byteAlphabet() throws {
        let tokenizer = try tokenizer()
        #expect(tokenizer.id(forToken: "Ġ") == 32)
        #expect(tokenizer.id(forToken: "Ċ") == 10)
        let text = "héllo\n\u{0}🙂"
        #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: false) == ids(text))
        #expect(tokenizer.decode(ids(text)) == text)
        #expect(tokenizer.bytes(for: 0xC3, renderSpecial: false) == [0xC3])  // half a character
    }

    @Test("merges apply lowest rank first")
    func mergeOrder() throws {
        let extra: [(String, TokenType)] = [("ab", .normal), ("bc", .normal), ("abc", .normal)]
        // "b c" (rank 0) before "a b" (rank 1); then "a bc" joins.
        let first = try tokenizer(extra: extra, merges: ["b c", "a b", "a bc"])
        #expect(first.encode("abc", addSpecial: false, parseSpecial: false) == [258])
        #expect(first.encode("abcab", addSpecial: false, parseSpecial: false) == [258, 256])
        // "a b" first, and no "ab c": the word stops at [ab, c].
        let second = try tokenizer(extra: extra, merges: ["a b", "b c", "a bc"])
        #expect(second.encode("abc", addSpecial: false, parseSpecial: false) == [256, Int32(UInt8(ascii: "c"))])
        // Equal ranks cannot happen, but equal pairs can: the leftmost merges first.
        let repeated = try tokenizer(extra: [("aa", .normal)], merges: ["a a"])
        #expect(repeated.encode("aaaaa", addSpecial: false, parseSpecial: false) == [256, 256, 97])
        #expect(first.mergeCount == 3)
    }

    @Test("merges whose tokens are not in the vocabulary are dropped; malformed ones are refused")
    func mergeValidation() throws {
        let tolerant = try tokenizer(extra: [("ab", .normal)], merges: ["a b", "x yz", "c d"])
        #expect(tolerant.mergeCount == 1)
        for merge in ["ab", " ab", "a ", ""] {
            #expect(throws: TokenizerError.self, "\(merge.debugDescription)") {
                _ = try tokenizer(merges: ["a b", merge])
            }
        }
        do {
            _ = try tokenizer(merges: ["a b", "nospace"])
            Issue.record("accepted a merge without a space")
        } catch {
            #expect(error.code == .malformedMerges)
            #expect(error.index == 1)
        }
    }

    @Test("special tokens split out only with parseSpecial; user-defined tokens always")
    func specialTokens() throws {
        let tokenizer = try tokenizer(extra: [("<s>", .control), ("<tool>", .userDefined), ("<unk>", .unknown)])
        let text = "a<s>b<tool>c<unk>"
        #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: true) == [97, 256, 98, 257, 99, 258])
        #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: false) == ids("a<s>b") + [257] + ids("c<unk>"))
        #expect(tokenizer.encode("<s><s>", addSpecial: false, parseSpecial: true) == [256, 256])
        #expect(tokenizer.encode("<s", addSpecial: false, parseSpecial: true) == ids("<s"))
    }

    @Test("the longest special token is split out first, as llama.cpp does")
    func longestFirst() throws {
        let tokenizer = try tokenizer(extra: [("[a", .control), ("a]]", .control), ("[a]]!", .control)])
        // "a]]" (3) goes before "[a" (2), although "[a" starts further left.
        #expect(tokenizer.encode("[a]]", addSpecial: false, parseSpecial: true) == [91, 257])
        #expect(tokenizer.encode("[a]]!", addSpecial: false, parseSpecial: true) == [258])
        #expect(tokenizer.encode("[a]", addSpecial: false, parseSpecial: true) == [256, 93])
    }

    @Test("bytes(for:): control and unknown tokens only when rendered, user-defined as written, unused never")
    func rendering() throws {
        let tokenizer = try tokenizer(extra: [("<s>", .control), ("my Ġtool", .userDefined), ("<unk>", .unknown), ("<unused0>", .unused)])
        #expect(tokenizer.bytes(for: 256, renderSpecial: false) == [])
        #expect(tokenizer.bytes(for: 256, renderSpecial: true) == Array("<s>".utf8))
        #expect(tokenizer.bytes(for: 257, renderSpecial: false) == Array("my Ġtool".utf8))
        #expect(tokenizer.bytes(for: 258, renderSpecial: false) == [])
        #expect(tokenizer.bytes(for: 258, renderSpecial: true) == Array("<unk>".utf8))
        #expect(tokenizer.bytes(for: 259, renderSpecial: true) == [])
        for id: Int32 in [-1, 260, .max, .min] { #expect(tokenizer.bytes(for: id, renderSpecial: true) == []) }
    }

    @Test("end-of-generation ids: eos, eot and the llama.cpp texts, which become control tokens")
    func endOfGeneration() throws {
        let tokenizer = try tokenizer(
            extra: [("<|begin|>", .control), ("<|im_end|>", .normal), ("<|eot_id|>", .control), ("<|end|>", .userDefined), ("</s>", .control)],
            bosID: 256, eosID: 260, eotID: 258)
        #expect(tokenizer.endOfGenerationIDs == [257, 258, 259, 260])
        #expect(tokenizer.tokenTypes[257] == .control)
        #expect(tokenizer.tokenTypes[259] == .userDefined)
        #expect(tokenizer.encode("<|im_end|>", addSpecial: false, parseSpecial: true) == [257])
        #expect(tokenizer.bytes(for: 257, renderSpecial: false) == [])
    }

    @Test("addSpecial adds BOS and EOS per the model's flags")
    func addSpecial() throws {
        let both = try tokenizer(extra: [("<s>", .control), ("</s>", .control)], bosID: 256, eosID: 257, addBOS: true, addEOS: true)
        #expect(both.encode("hi", addSpecial: true, parseSpecial: false) == [256, 104, 105, 257])
        #expect(both.encode("hi", addSpecial: false, parseSpecial: false) == [104, 105])
        #expect(both.encode("", addSpecial: true, parseSpecial: false) == [256, 257])
        let neither = try tokenizer(extra: [("<s>", .control)], bosID: 256, eosID: 256)
        #expect(neither.encode("hi", addSpecial: true, parseSpecial: false) == [104, 105])
    }

    @Test("without token types, BOS/EOS are control tokens")
    func missingTokenTypes() throws {
        let tokenizer = try ByteLevelBPETokenizer(
            tokens: byteCharacters + ["<s>"], tokenTypes: nil, merges: [], preTokenizer: "smollm",
            bosID: 256, eosID: 256, eotID: nil, unknownID: nil, addBOS: true, addEOS: false)
        #expect(tokenizer.tokenTypes[256] == .control)
        #expect(tokenizer.tokenTypes[65] == .normal)
        #expect(tokenizer.encode("<s>A", addSpecial: true, parseSpecial: true) == [256, 256, 65])
    }

    @Test("llama-bpe takes a word that is a whole token without merging (ignore_merges); qwen2 merges")
    func ignoreMerges() throws {
        let llama = try tokenizer(extra: [("abc", .normal)], preTokenizer: "llama-bpe")
        #expect(llama.encode("abc abc", addSpecial: false, parseSpecial: false) == [256] + ids(" abc"))
        let qwen = try tokenizer(extra: [("abc", .normal)], preTokenizer: "qwen2")
        #expect(qwen.encode("abc", addSpecial: false, parseSpecial: false) == ids("abc"))
    }

    @Test("malformed metadata is refused with a clear error")
    func refusals() {
        func code(_ make: () throws(TokenizerError) -> ByteLevelBPETokenizer) -> TokenizerError.Code? {
            do { _ = try make(); return nil } catch { return error.code }
        }
        #expect(code { () throws(TokenizerError) in try ByteLevelBPETokenizer(
            tokens: [], tokenTypes: nil, merges: [], preTokenizer: "gpt2", bosID: nil, eosID: nil, eotID: nil, unknownID: nil,
            addBOS: false, addEOS: false) } == .malformedVocabulary)
        #expect(code { () throws(TokenizerError) in try ByteLevelBPETokenizer(
            tokens: ["a", "b"], tokenTypes: [1], merges: [], preTokenizer: "gpt2", bosID: nil, eosID: nil, eotID: nil, unknownID: nil,
            addBOS: false, addEOS: false) } == .malformedVocabulary)
        for (bos, eos, eot, unknown): (Int32?, Int32?, Int32?, Int32?) in [(2, nil, nil, nil), (nil, -1, nil, nil), (nil, nil, 99, nil), (nil, nil, nil, .max)] {
            #expect(code { () throws(TokenizerError) in try ByteLevelBPETokenizer(
                tokens: ["a", "b"], tokenTypes: nil, merges: [], preTokenizer: "gpt2", bosID: bos, eosID: eos, eotID: eot,
                unknownID: unknown, addBOS: false, addEOS: false) } == .invalidSpecialTokenID)
        }
        #expect(code { () throws(TokenizerError) in try ByteLevelBPETokenizer(
            tokens: ["a"], tokenTypes: nil, merges: [], preTokenizer: "tekken", bosID: nil, eosID: nil, eotID: nil, unknownID: nil,
            addBOS: false, addEOS: false) } == .unknownPreTokenizer)
    }

    @Test("a vocabulary without some byte characters drops those bytes")
    func missingBytes() throws {
        let tokenizer = try ByteLevelBPETokenizer(
            tokens: ["a", "b", "Ġ"], tokenTypes: nil, merges: [], preTokenizer: "gpt2", bosID: nil, eosID: nil, eotID: nil,
            unknownID: nil, addBOS: false, addEOS: false)
        #expect(tokenizer.encode("a c b", addSpecial: false, parseSpecial: false) == [0, 2, 2, 1])
    }

    @Test("long words and hostile text encode without trouble", arguments: ["smollm", "gpt2", "llama-bpe", "qwen2"])
    func longWords(_ preTokenizer: String) throws {
        let tokenizer = try tokenizer(extra: [("aa", .normal), ("aaaa", .normal)], merges: ["a a", "aa aa"], preTokenizer: preTokenizer)
        let ids = tokenizer.encode(String(repeating: "a", count: 10_001), addSpecial: false, parseSpecial: true)
        #expect(ids == Array(repeating: 257, count: 2500) + [97])
        let noise = String(decoding: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }, as: UTF8.self)
        #expect(tokenizer.decode(tokenizer.encode(noise, addSpecial: false, parseSpecial: true)) == noise)
    }
}
