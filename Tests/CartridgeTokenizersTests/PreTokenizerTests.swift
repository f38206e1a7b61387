import CartridgeTokenizers
import Testing

// Pieces as Hugging Face `tokenizers` splits them (Split(regex, "isolated"); smollm: Digits(individual)
// first), printed by its pre_tokenize_str for these texts.
private let referencePieces: [(preTokenizer: String, text: String, pieces: [String])] = [
    ("gpt2", "   a", ["  ", " a"]),
    ("gpt2", "a   ", ["a", "   "]),
    ("gpt2", "x \n\n y", ["x", " \n\n", " y"]),
    ("gpt2", "Hello world!!  ok", ["Hello", " world", "!!", " ", " ok"]),
    ("gpt2", "I'm they'LL it's", ["I", "'m", " they", "'", "LL", " it", "'s"]),
    ("gpt2", "1234567 abc12", ["1234567", " abc", "12"]),
    ("gpt2", "\tfoo (bar)\r\n\r\n  baz", ["\t", "foo", " (", "bar", ")", "\r\n\r\n ", " baz"]),
    ("gpt2", "a \n b", ["a", " \n", " b"]),
    ("gpt2", "...\n\nx", ["...", "\n", "\n", "x"]),
    ("gpt2", "  \u{A0}\u{2028}z", ["  \u{A0}", "\u{2028}", "z"]),
    ("gpt2", "it'\u{17F}a", ["it", "'", "\u{17F}a"]),
    ("gpt2", "x\u{1C}\u{1D} y", ["x", "\u{1C}\u{1D}", " y"]),
    ("gpt2", "\u{663}\u{664} \u{BD}x", ["\u{663}\u{664}", " \u{BD}", "x"]),
    ("llama-bpe", "   a", ["  ", " a"]),
    ("llama-bpe", "a   ", ["a", "   "]),
    ("llama-bpe", "x \n\n y", ["x", " \n\n", " y"]),
    ("llama-bpe", "Hello world!!  ok", ["Hello", " world", "!!", " ", " ok"]),
    ("llama-bpe", "I'm they'LL it's", ["I", "'m", " they", "'LL", " it", "'s"]),
    ("llama-bpe", "1234567 abc12", ["123", "456", "7", " abc", "12"]),
    ("llama-bpe", "\tfoo (bar)\r\n\r\n  baz", ["\tfoo", " (", "bar", ")\r\n\r\n", " ", " baz"]),
    ("llama-bpe", "a \n b", ["a", " \n", " b"]),
    ("llama-bpe", "...\n\nx", ["...\n\n", "x"]),
    ("llama-bpe", "  \u{A0}\u{2028}z", ["  \u{A0}", "\u{2028}z"]),
    ("llama-bpe", "it'\u{17F}a", ["it", "'\u{17F}", "a"]),
    ("llama-bpe", "x\u{1C}\u{1D} y", ["x", "\u{1C}\u{1D}", " y"]),
    ("llama-bpe", "\u{663}\u{664} \u{BD}x", ["\u{663}\u{664}", " ", "\u{BD}", "x"]),
    ("qwen2", "   a", ["  ", " a"]),
    ("qwen2", "a   ", ["a", "   "]),
    ("qwen2", "x \n\n y", ["x", " \n\n", " y"]),
    ("qwen2", "Hello world!!  ok", ["Hello", " world", "!!", " ", " ok"]),
    ("qwen2", "I'm they'LL it's", ["I", "'m", " they", "'LL", " it", "'s"]),
    ("qwen2", "1234567 abc12", ["1", "2", "3", "4", "5", "6", "7", " abc", "1", "2"]),
    ("qwen2", "\tfoo (bar)\r\n\r\n  baz", ["\tfoo", " (", "bar", ")\r\n\r\n", " ", " baz"]),
    ("qwen2", "a \n b", ["a", " \n", " b"]),
    ("qwen2", "...\n\nx", ["...\n\n", "x"]),
    ("qwen2", "  \u{A0}\u{2028}z", ["  \u{A0}", "\u{2028}z"]),
    ("qwen2", "it'\u{17F}a", ["it", "'\u{17F}", "a"]),
    ("qwen2", "x\u{1C}\u{1D} y", ["x", "\u{1C}\u{1D}", " y"]),
    ("qwen2", "\u{663}\u{664} \u{BD}x", ["\u{663}", "\u{664}", " ", "\u{BD}", "x"]),
    ("smollm", "   a", ["  ", " a"]),
    ("smollm", "a   ", ["a", "   "]),
    ("smollm", "x \n\n y", ["x", " \n\n", " y"]),
    ("smollm", "Hello world!!  ok", ["Hello", " world", "!!", " ", " ok"]),
    ("smollm", "I'm they'LL it's", ["I", "'m", " they", "'", "LL", " it", "'s"]),
    ("smollm", "1234567 abc12", ["1", "2", "3", "4", "5", "6", "7", " abc", "1", "2"]),
    ("smollm", "\tfoo (bar)\r\n\r\n  baz", ["\t", "foo", " (", "bar", ")", "\r\n\r\n ", " baz"]),
    ("smollm", "a \n b", ["a", " \n", " b"]),
    ("smollm", "...\n\nx", ["...", "\n", "\n", "x"]),
    ("smollm", "  \u{A0}\u{2028}z", ["  \u{A0}", "\u{2028}", "z"]),
    ("smollm", "it'\u{17F}a", ["it", "'", "\u{17F}a"]),
    ("smollm", "x\u{1C}\u{1D} y", ["x", "\u{1C}\u{1D}", " y"]),
    ("smollm", "\u{663}\u{664} \u{BD}x", ["\u{663}", "\u{664}", " ", "\u{BD}", "x"]),
]

@Suite("PreTokenizer")
struct PreTokenizerTests {
    @Test("pieces equal tokenizers' regex split", arguments: referencePieces)
    func piecesMatchReference(_ preTokenizer: String, _ text: String, _ pieces: [String]) throws {
        #expect(try PreTokenizer(name: preTokenizer).pieces(of: text) == pieces)
    }

    @Test("the pieces of any text concatenate to the text", arguments: ["smollm", "gpt2", "llama-bpe", "qwen2"])
    func piecesCoverTheText(_ name: String) throws {
        let preTokenizer = try PreTokenizer(name: name)
        let texts = ["", " ", "\n", "a", "'", "'s", "' s", "''ll", "\r\n \r\n", "𝟘𝟙𝟚 x", "e\u{301}\u{301} ", "🇫🇷👨‍👩‍👧", "\u{0}\u{FFFF}"]
        for text in texts {
            let pieces = preTokenizer.pieces(of: text)
            #expect(pieces.joined() == text, "\(name) \(text.debugDescription)")
            #expect(!pieces.contains(""), "\(name) \(text.debugDescription)")
        }
    }

    @Test("aliases llama.cpp accepts")
    func aliases() throws {
        #expect(try PreTokenizer(name: "gpt-2").pieces(of: "a 12") == ["a", " 12"])
        #expect(try PreTokenizer(name: "llama3").pieces(of: "a 1234") == ["a", " ", "123", "4"])
        #expect(try PreTokenizer(name: "deepseek-r1-qwen").pieces(of: "12") == ["1", "2"])
        #expect(try PreTokenizer(name: "llama-bpe").ignoresMerges)
        #expect(try !PreTokenizer(name: "qwen2").ignoresMerges)
    }

    @Test("an unknown name is refused with the known names listed")
    func unknownName() {
        #expect {
            _ = try PreTokenizer(name: "deepseek-llm")
        } throws: { error in
            guard let error = error as? TokenizerError, error.code == .unknownPreTokenizer else { return false }
            return error.message.contains("deepseek-llm") && PreTokenizer.knownNames.allSatisfy(error.message.contains)
        }
    }
}
