import CartridgeInference
import Foundation
import Testing

/// Token ids against the model's own tokenizer.json run by Hugging Face `tokenizers`.
@Suite(.serialized)
struct WordPieceReferenceTests {
    static let sentences: [String] = [
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "Don't stop believin' -- hold on to that feelin'...",
        "e-mail: someone@example.com, cost $3.50 (approx.) & 100% <ok> [x] {y} a|b ~z ^w `q` #tag",
        "Café crème brûlée, naïve façade, Ångström, İstanbul, ÆØÅ æøå, Straße, Σίσυφος ΟΔΥΣΣΕΥΣ",
        "Ǆemal ǅ ǆ ﬁnance ① ™ ½ Ⅻ",
        "北京欢迎你！我爱自然语言处理。日本語のテキスト、カタカナとひらがな。한국어 문장입니다.",
        "Emoji: 😀 👍🏽 🇫🇷 👨‍👩‍👧 ❤️ 🤗 🫠 done",
        "Control\u{0}chars\u{7}and\u{1B}escapes\u{FFFD} zero\u{200B}width soft\u{AD}hyphen bidi\u{202E}x\u{202C}",
        "tabs\tand\nnewlines\r\nand\u{3000}ideographic\u{00A0}spaces\u{2028}here",
        "unassigned \u{0378} private \u{E000} format \u{0890} new punct \u{2E43} combining \u{0301}alone",
        "Special tokens [CLS] inside [SEP] text [MASK] and [mask] and [UNK] and [PAD]",
        "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        String(repeating: "a", count: 100) + " " + String(repeating: "b", count: 101) + " ok",
        "Numbers 3.14159 1,000,000 2024-05-06 12:30pm #1 v2.0.1",
        "Ελληνικά, русский текст, עברית, العربية, हिन्दी, ภาษาไทย",
        "",
        "   ",
        "a",
        String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40),
        String(repeating: "tokenization ", count: 200),
    ]

    @Test(.enabled(if: EmbeddingReference.isAvailable, "needs the model and the Python tokenizers package"))
    func idsMatchHuggingFaceTokenizers() throws {
        let directory = try #require(EmbeddingReference.modelDirectory)
        let tokenizer = try WordPieceTokenizer(
            vocabulary: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/vocab.txt"))),
            options: try WordPieceOptions(
                tokenizerJSON: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/tokenizer.json")))))
        #expect(tokenizer.options.maximumLength == 128)
        // The embedding image stores tokenizer.json alone: its model.vocab must give the same tokenizer.
        let fromJSON = try WordPieceTokenizer(
            tokenizerJSON: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/tokenizer.json"))))
        #expect(fromJSON.tokens == tokenizer.tokens)
        #expect(fromJSON.options == tokenizer.options)
        let expected = try EmbeddingReference.reference("tokens", Self.sentences, as: [[Int32]].self)
        try #require(expected.count == Self.sentences.count)
        for (sentence, reference) in zip(Self.sentences, expected) {
            #expect(tokenizer.encode(sentence) == reference, "sentence \(sentence.debugDescription)")
            #expect(fromJSON.encode(sentence) == reference, "tokenizer.json alone, sentence \(sentence.debugDescription)")
        }
        // The long inputs really were truncated to the tokenizer.json limit.
        #expect(expected.last?.count == 128)
    }
}
