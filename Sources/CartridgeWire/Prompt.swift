/// A GENERATE prompt: text (tokenized by the device, with BOS) or token ids as given.
public enum Prompt: Hashable, Sendable {
    case text(String)
    case tokens([UInt32])
}
