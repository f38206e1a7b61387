extension WordPieceTokenizer {
    /// The same tokenizer truncating at `maximumLength` tokens, `[CLS]` and `[SEP]` included
    /// (sentence-transformers' `max_seq_length` overrides tokenizer.json's truncation).
    public func truncating(at maximumLength: Int) throws(InferenceError) -> WordPieceTokenizer {
        guard maximumLength >= 2 else {
            throw InferenceError(.invalidConfiguration, "a truncation length of \(maximumLength) leaves no room for [CLS] and [SEP]")
        }
        var copy = self
        copy.options.maximumLength = maximumLength
        return copy
    }
}
