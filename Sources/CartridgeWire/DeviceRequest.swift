/// A decoded request the device must act on (everything except HELLO, PING and CANCEL, which the
/// session answers or routes itself).
public enum DeviceRequest: Hashable, Sendable {
    case info
    case tokenize(TokenizeRequest)
    case detokenize(DetokenizeRequest)
    case generate(GenerateRequest)
    case chat(ChatRequest)
    case embed(EmbedRequest)
    case power(subscribe: Bool)
}
