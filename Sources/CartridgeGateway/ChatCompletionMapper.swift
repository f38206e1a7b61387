import CartridgeClient
import CartridgeWire

/// The one place that maps an OpenAI chat request to the cartridge call answering it: the seam
/// where the protocol's CHAT request (messages with roles, rendered by the cartridge's own chat
/// template) plugs in. A cartridge without chat support is answered 501 with a clear message;
/// the gateway never guesses a template on the host.
struct ChatCompletionMapper: Sendable {
    /// Whether the cartridge behind `connection` renders chat messages itself.
    static func supportsChat(_ connection: CartridgeConnection) -> Bool {
        false
    }

    /// Starts the chat generation on `connection`.
    static func start(_ request: ChatCompletionRequest, on connection: CartridgeConnection, model: String) async throws -> GenerationStream {
        guard supportsChat(connection) else {
            throw GatewayError(
                .notImplemented,
                "the cartridge serving '\(model)' has no chat template (the CHAT capability); use /v1/completions with a prompt",
                param: "messages")
        }
        throw GatewayError(.notImplemented, "chat completions are not available on this cartridge")
    }
}
