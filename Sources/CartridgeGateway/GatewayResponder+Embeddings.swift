import CartridgeClient
import CartridgeWire
import Hummingbird

/// /v1/embeddings: EMBED on a leased cartridge. `usage.prompt_tokens` counts the tokens the model
/// ran over: each input's TOKENIZE with `[CLS]` and `[SEP]`, capped at the card's context length
/// (where EMBED truncates), asked alongside the EMBED. On a cartridge that does not expose its
/// tokenizer (TOKENIZE unsupported, as on images older than this gateway) it stays 0.
extension GatewayResponder {
    func embeddings(_ request: EmbeddingRequest, context: GatewayRequestContext) async throws -> Response {
        let signal = await ClientDisconnectWatcher.signal(of: context.channel)
        let caller = self.caller
        let inputs = request.inputs
        let ((vectors, promptTokens), card) = try await signal.unlessClientLeaves {
            try await caller.call(model: request.model, ability: .embed) { lease in try await GatewayResponder.embed(inputs, lease: lease) }
        }
        if let dimensions = request.dimensions, dimensions != Int(card.embeddingDimension) {
            throw GatewayError(
                .invalidRequest, "'\(request.model)' makes \(card.embeddingDimension)-dimensional vectors; 'dimensions' cannot change that",
                param: "dimensions")
        }
        guard vectors.count == inputs.count else {
            throw GatewayError(.cartridgeFailed, "the cartridge returned \(vectors.count) vectors for \(inputs.count) inputs")
        }
        metrics.embeddingsServed(model: card.name, count: vectors.count)
        let data: [JSONValue] = vectors.enumerated().map { index, vector in
            let embedding: JSONValue
            switch request.encoding {
            case .float: embedding = .array(vector.map(JSONValue.float))
            case .base64: embedding = .string(Base64.encode(floats: vector))
            }
            return .object([("object", .string("embedding")), ("index", .integer(Int64(index))), ("embedding", embedding)])
        }
        return GatewayResponder.json(.ok, .object([
            ("object", .string("list")), ("data", .array(data)), ("model", .string(pool.modelID(of: card.name))),
            ("usage", .object([("prompt_tokens", .integer(Int64(promptTokens))), ("total_tokens", .integer(Int64(promptTokens)))])),
        ]))
    }

    /// EMBED, with the inputs' token count (0 when the cartridge cannot TOKENIZE). The TOKENIZE
    /// requests run one at a time next to the EMBED, so a lease never has more than two requests
    /// in flight on the connection.
    static func embed(_ inputs: [String], lease: PoolLease) async throws -> (vectors: [[Float]], promptTokens: Int) {
        let connection = lease.connection
        guard connection.hello.capabilities.contains(.tokenize) else { return (try await connection.embed(inputs), 0) }
        let limit = Int(lease.card.contextLength)
        async let counted = { () async -> Int in
            var total = 0
            for input in inputs {
                // A count is not worth failing the request for: a refused TOKENIZE counts 0.
                guard let tokens = try? await connection.tokenize(input, options: [.addBeginning, .addEnd]) else { return 0 }
                total += limit > 0 ? min(tokens.count, limit) : tokens.count
            }
            return total
        }()
        let vectors = try await connection.embed(inputs)
        return (vectors, await counted)
    }
}
