public import CartridgeErrors

/// Everything that can go wrong in CartridgeTokenizers: tokenizer metadata that cannot describe a
/// working tokenizer (an unknown pre-tokenizer, malformed arrays, ids out of range).
public struct TokenizerError: ModuleError {
    /// What kind of failure; an open set (new codes can be added without breaking callers).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case unknownPreTokenizer, malformedVocabulary, malformedMerges, invalidSpecialTokenID
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
        public static let unknownPreTokenizer = Code(.unknownPreTokenizer)
        /// The token list is empty or too large, or token types/scores do not match it.
        public static let malformedVocabulary = Code(.malformedVocabulary)
        /// A merge rule is not two tokens separated by a space.
        public static let malformedMerges = Code(.malformedMerges)
        /// A BOS/EOS/EOT/UNK id is outside the vocabulary.
        public static let invalidSpecialTokenID = Code(.invalidSpecialTokenID)

        public var description: String {
            switch value {
            case .unknownPreTokenizer: "unknownPreTokenizer"
            case .malformedVocabulary: "malformedVocabulary"
            case .malformedMerges: "malformedMerges"
            case .invalidSpecialTokenID: "invalidSpecialTokenID"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The offending array index (token or merge number), when there is one.
    public var index: Int?
    public var location: SourceLocation

    public init(_ code: Code, _ message: String, index: Int? = nil, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.index = index
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    /// The offending index, when there is one.
    public var details: [String] { index.map { ["index \($0)"] } ?? [] }
}
