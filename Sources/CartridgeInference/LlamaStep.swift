/// One step of a generation (`LlamaSession.nextToken()`).
public enum LlamaStep: Hashable, Sendable {
    /// A generated token and the text it releases. The text may be empty (an incomplete UTF-8
    /// sequence, or text held back because it may begin a stop sequence) or include text held
    /// back by earlier steps.
    case token(id: Int32, text: String)
    /// The generation ended. `trailingText` is held-back text that turned out not to be part of a
    /// stop sequence (an incomplete UTF-8 sequence at the end is decoded with U+FFFD).
    case finished(LlamaStopReason, trailingText: String)
}

/// Why a generation ended.
public enum LlamaStopReason: Hashable, Sendable {
    case maxTokens
    /// The model produced EOS (or BOS).
    case endOfSequence
    case stopSequence
    /// The context window (`seqLen`) is full.
    case contextFull
}
