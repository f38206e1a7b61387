/// A token's kind, as stored in GGUF `tokenizer.ggml.token_type` (llama.cpp's llama_token_type).
/// An open set: values this module does not know are kept and treated like `.normal`.
public struct TokenType: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// An ordinary vocabulary piece.
    public static let normal = TokenType(rawValue: 1)
    /// The unknown token.
    public static let unknown = TokenType(rawValue: 2)
    /// A control token (BOS, EOS, chat markers): text only when rendered or parsed as special.
    public static let control = TokenType(rawValue: 3)
    /// A user-defined token: always split out of the input, decoded as its literal text.
    public static let userDefined = TokenType(rawValue: 4)
    /// A placeholder that never appears in output.
    public static let unused = TokenType(rawValue: 5)
    /// A SentencePiece byte-fallback token `<0xNN>`.
    public static let byte = TokenType(rawValue: 6)
}
