public import CartridgeWire

/// One item of a generation stream: tokens as they are produced, then the summary.
public enum GenerationEvent: Hashable, Sendable {
    case token(GeneratedToken)
    case done(GenerationSummary)
}
