import CartridgeClient
import CartridgeWire

/// The one place that maps an OpenAI chat request to the cartridge call answering it: the seam
/// where the protocol's CHAT request (messages with roles, rendered by the cartridge's own chat
/// template) plugs in. A cartridge without chat support is answered 501 with a clear message;
/// the gateway never guesses a template on the host.
struct ChatCompletionMapper: Sendable {
    /// Whether the cartridge behind `connection` renders chat messages itself.
    static func supportsChat(_ connection: CartridgeConnection) -> Bool {
        connection.hello.capabilities.contains(.chat)
    }

    /// The CHAT request for `request` on a cartridge whose context holds `contextLength` tokens.
    static func chatRequest(for request: ChatCompletionRequest, contextLength: UInt32) -> ChatRequest {
        ChatRequest(
            messages: request.messages.map { ChatMessage(role: $0.role, content: $0.content) },
            // Without a limit: until the model ends its turn or the context is full.
            maximumTokens: request.maximumTokens ?? max(1, contextLength),
            temperature: request.temperature, topP: request.topP >= 1 ? 0 : request.topP, seed: request.seed,
            stopSequences: request.stopSequences,
            topLogprobs: request.logprobs ? LogprobResolver.requested(request.topLogprobs) : 0)
    }

    /// Starts the chat generation on `connection`.
    static func start(_ request: ChatCompletionRequest, on connection: CartridgeConnection, card: ModelCard) async throws -> GenerationStream {
        guard supportsChat(connection) else {
            throw GatewayError(
                .invalidRequest, "'\(card.name)' has no chat template (the cartridge lacks CHAT); use /v1/completions with a prompt",
                param: "model")
        }
        if request.logprobs, !connection.hello.capabilities.contains(.logprobs) {
            throw GatewayError(.invalidRequest, "'\(card.name)' does not report log-probabilities", param: "logprobs")
        }
        return try await connection.chat(chatRequest(for: request, contextLength: card.contextLength))
    }
}
