/// What a model's decoder needs from a tokenizer: text to token ids, token ids back to bytes, and
/// the special ids that start and end a sequence.
public protocol TextTokenizer: Sendable {
    /// The number of tokens in the vocabulary (valid ids are `0..<vocabularySize`).
    var vocabularySize: Int { get }

    /// Ids for `text`. `addSpecial`: prepend BOS / append EOS per the model's add_bos/add_eos flags.
    /// `parseSpecial`: literal special-token texts in `text` (e.g. "<|im_start|>") become their ids
    /// (llama.cpp's parse_special); without it they are tokenized as ordinary text.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]

    /// The bytes token `id` stands for (byte-level decoded: can be part of a UTF-8 sequence).
    /// Control/special tokens give their text only when `renderSpecial` is true, else empty.
    /// Out-of-range ids give no bytes.
    func bytes(for id: Int32, renderSpecial: Bool) -> [UInt8]

    /// The beginning-of-sequence id, if the model has one.
    var bosID: Int32? { get }
    /// The end-of-sequence id, if the model has one.
    var eosID: Int32? { get }

    /// End-of-generation ids: eos, eot (tokenizer.ggml.eot_token_id), eom, and tokens whose text is
    /// one of <|im_end|>, <|eot_id|>, <|eom_id|>, <|end|>, <end_of_turn>, <|endoftext|>, <EOT>, _<EOT>
    /// (as llama.cpp's vocabulary does).
    var endOfGenerationIDs: Set<Int32> { get }

    /// The id of the token whose vocabulary text is exactly `text` (for byte-level vocabularies the
    /// byte-level form, e.g. "Ġthe"; special tokens as written, e.g. "<|im_start|>").
    func id(forToken text: String) -> Int32?
}

extension TextTokenizer {
    /// The bytes of a token sequence, concatenated (special tokens per `renderSpecial`).
    public func bytes(for ids: some Sequence<Int32>, renderSpecial: Bool) -> [UInt8] {
        var result: [UInt8] = []
        for id in ids { result += bytes(for: id, renderSpecial: renderSpecial) }
        return result
    }

    /// The text of a token sequence; invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
    public func decode(_ ids: some Sequence<Int32>, renderSpecial: Bool = false) -> String {
        String(decoding: bytes(for: ids, renderSpecial: renderSpecial), as: UTF8.self)
    }
}
