/// Splits text into the words that BPE encodes one by one, by GGUF `tokenizer.ggml.pre`. Each
/// variant is the model's regex implemented as a hand-written scanner over Unicode scalars (same
/// matches as the regex, including ordered alternation and the `\s+(?!\S)` lookahead):
///
/// - `smollm`: every `\p{N}` character is its own piece, then the GPT-2 regex on each piece.
/// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `llama-bpe` (Llama 3): `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`; a word that is a whole vocabulary token is
///   not merged (`ignore_merges`).
/// - `qwen2`: as `llama-bpe` but `\p{N}` (single digits) and with merges applied to every word.
///
/// The text between matches also becomes a piece (Hugging Face `Split(..., "isolated")`).
public struct PreTokenizer: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable { case gpt2, smollm, llama3, qwen2 }

    let kind: Kind
    /// The name this pre-tokenizer was made from.
    public let name: String

    /// The `tokenizer.ggml.pre` names this module implements (aliases as llama.cpp accepts them).
    public static let knownNames: [String] = ["smollm", "gpt2", "gpt-2", "llama-bpe", "llama3", "llama-v3", "qwen2", "deepseek-r1-qwen"]

    /// The pre-tokenizer `tokenizer.ggml.pre` names; throws `.unknownPreTokenizer` for other names.
    public init(name: String) throws(TokenizerError) {
        switch name {
        case "smollm": kind = .smollm
        case "gpt2", "gpt-2": kind = .gpt2
        case "llama-bpe", "llama3", "llama-v3": kind = .llama3
        case "qwen2", "deepseek-r1-qwen": kind = .qwen2
        default:
            throw TokenizerError(
                .unknownPreTokenizer,
                "unknown pre-tokenizer \"\(name)\" (tokenizer.ggml.pre); known: \(Self.knownNames.joined(separator: ", "))")
        }
        self.name = name
    }

    /// Whether a word that is itself a vocabulary token skips the merges (Llama 3's `ignore_merges`).
    public var ignoresMerges: Bool { kind == .llama3 }

    public var description: String { name }

    /// The pieces of `text` (for inspection and tests; the tokenizer uses the scanner directly).
    public func pieces(of text: String) -> [String] {
        let classified = ClassifiedText(text)
        var result: [String] = []
        forEachPiece(of: classified, in: 0..<classified.scalars.count) { range in
            var bytes: [UInt8] = []
            classified.appendUTF8(of: range, to: &bytes)
            result.append(String(decoding: bytes, as: UTF8.self))
        }
        return result
    }

    /// Calls `body` with the range of each piece of `text.scalars[range]`, in order.
    func forEachPiece(of text: ClassifiedText, in range: Range<Int>, _ body: (Range<Int>) -> Void) {
        switch kind {
        case .smollm:
            // Digits(individual_digits: true): every \p{N} is isolated, then GPT-2 on the rest.
            var start = range.lowerBound
            for index in range where text.classes[index] & ClassifiedText.number != 0 {
                if start < index { Self.scan(text, start..<index, Self.gpt2Match, body) }
                body(index..<index + 1)
                start = index + 1
            }
            if start < range.upperBound { Self.scan(text, start..<range.upperBound, Self.gpt2Match, body) }
        case .gpt2: Self.scan(text, range, Self.gpt2Match, body)
        case .llama3: Self.scan(text, range, { Self.llama3Match($0, $1, $2, maximumDigits: 3) }, body)
        case .qwen2: Self.scan(text, range, { Self.llama3Match($0, $1, $2, maximumDigits: 1) }, body)
        }
    }

    /// Repeats `match` from the start of `range`; each call returns the end of the match at a position.
    private static func scan(
        _ text: ClassifiedText, _ range: Range<Int>, _ match: (ClassifiedText, Int, Int) -> Int, _ body: (Range<Int>) -> Void
    ) {
        var position = range.lowerBound
        while position < range.upperBound {
            // Every scanner matches at least one scalar anywhere; max() keeps a defect from looping forever.
            let end = max(position + 1, min(match(text, position, range.upperBound), range.upperBound))
            body(position..<end)
            position = end
        }
    }
}
