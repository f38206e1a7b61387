import CartridgeInference
import Testing

/// Behaviour of the tokenizer on a tiny hand-written vocabulary (no model needed).
struct WordPieceTokenizerTests {
    static let vocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", ",", "!", "cafe",
        "北", "京", "$", "a", "##a", "i", "##stanbul", "s", "##tra", "##ße", "x",
    ]

    static func tokenizer(_ configure: (inout WordPieceOptions) -> Void = { _ in }) throws -> WordPieceTokenizer {
        var options = WordPieceOptions()
        configure(&options)
        return try WordPieceTokenizer(vocabulary: Array(vocabulary.joined(separator: "\n").utf8), options: options)
    }

    static func id(_ token: String) -> Int32 { Int32(vocabulary.firstIndex(of: token)!) }

    @Test func greedyLongestMatchFirstWithContinuations() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("unaffable") == [2, Self.id("un"), Self.id("##aff"), Self.id("##able"), 3])
        // A word that cannot be covered entirely becomes one [UNK].
        #expect(tokenizer.encode("unaffablez hello") == [2, 1, Self.id("hello"), 3])
    }

    @Test func punctuationIsSplitAndCaseAndAccentsAreFolded() throws {
        let tokenizer = try Self.tokenizer()
        #expect(
            tokenizer.encode("HELLO,World!  Café $") == [
                2, Self.id("hello"), Self.id(","), Self.id("world"), Self.id("!"), Self.id("cafe"), Self.id("$"), 3,
            ])
        // Accents are stripped before lower-casing, as tokenizers' BertNormalizer does: İ → I → i.
        #expect(tokenizer.encode("İstanbul") == [2, Self.id("i"), Self.id("##stanbul"), 3])
        // ß has no decomposition and stays.
        #expect(tokenizer.encode("STRAße") == [2, Self.id("s"), Self.id("##tra"), Self.id("##ße"), 3])
    }

    @Test func cjkCharactersBecomeWordsAndControlCharactersVanish() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("北京") == [2, Self.id("北"), Self.id("京"), 3])
        #expect(tokenizer.encode("he\u{0}llo\u{7}\u{FFFD}") == [2, Self.id("hello"), 3])
        #expect(tokenizer.encode("hello\tworld\u{3000}x") == [2, Self.id("hello"), Self.id("world"), Self.id("x"), 3])
        #expect(tokenizer.encode("") == [2, 3])
    }

    @Test func specialTokensAreTakenFromRawText() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("hello [MASK]world") == [2, Self.id("hello"), 4, Self.id("world"), 3])
        // Only the exact spelling: lower-case brackets are ordinary text ("[" is not in the vocabulary).
        #expect(tokenizer.encode("[mask]") == [2, 1, 1, 1, 3])
    }

    @Test func wordsLongerThanTheLimitAreUnknown() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode(String(repeating: "a", count: 100)) == [2, Self.id("a")] + Array(repeating: Self.id("##a"), count: 99) + [3])
        #expect(tokenizer.encode(String(repeating: "a", count: 101)) == [2, 1, 3])
    }

    @Test func truncationKeepsTheFirstTokensAndTheFrame() throws {
        let tokenizer = try Self.tokenizer { $0.maximumLength = 5 }
        #expect(tokenizer.encode("hello world hello world") == [2, Self.id("hello"), Self.id("world"), Self.id("hello"), 3])
        #expect(tokenizer.contentIDs("hello world hello world").count == 4)
    }

    @Test func optionsCanDisableNormalisation() throws {
        let tokenizer = try Self.tokenizer {
            $0.lowercase = false
            $0.stripAccents = false
        }
        #expect(tokenizer.encode("Hello cafe") == [2, 1, Self.id("cafe"), 3])
    }

    @Test func malformedVocabulariesAreRejected() throws {
        #expect(throws: InferenceError.self) { try WordPieceTokenizer(vocabulary: []) }
        #expect(throws: InferenceError.self) { try WordPieceTokenizer(vocabulary: Array("[CLS]\n[SEP]\nhello".utf8)) }
        #expect(throws: InferenceError.self) {
            try WordPieceTokenizer(vocabulary: Array("[UNK]\n[CLS]\n[SEP]\n".utf8) + [0xFF, 0xFE])
        }
        #expect(throws: InferenceError.self) {
            var options = WordPieceOptions()
            options.maximumLength = 1
            return try WordPieceTokenizer(vocabulary: Array("[UNK]\n[CLS]\n[SEP]".utf8), options: options)
        }
    }

    @Test func optionsAreReadFromTokenizerJSON() throws {
        let json = """
            {"truncation": {"max_length": 64}, "added_tokens": [{"id": 4, "content": "[MASK]", "special": true}],
             "normalizer": {"type": "BertNormalizer", "lowercase": false, "strip_accents": null},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "max_input_chars_per_word": 50, "vocab": {}}}
            """
        let options = try WordPieceOptions(tokenizerJSON: Array(json.utf8))
        #expect(options.maximumLength == 64)
        #expect(options.lowercase == false)
        #expect(options.stripAccents == nil)
        #expect(options.maximumInputCharactersPerWord == 50)
        #expect(options.specialTokens == ["[MASK]"])
        #expect(throws: InferenceError.self) {
            try WordPieceOptions(tokenizerJSON: Array(#"{"model": {"type": "BPE"}}"#.utf8))
        }
        #expect(throws: InferenceError.self) { try WordPieceOptions(tokenizerJSON: Array("{\"model\": ".utf8)) }
    }
}
