public import CartridgeWire

/// One item of a generation stream: with echo, the prompt's tokens first; then tokens as they
/// are produced, then the summary.
public enum GenerationEvent: Hashable, Sendable {
    case promptToken(PromptToken)
    case token(GeneratedToken)
    case done(GenerationSummary)
}
