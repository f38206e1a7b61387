import CartridgeClient
import CartridgeWire
import Hummingbird

/// /v1/embeddings: EMBED on a leased cartridge.
extension GatewayResponder {
    func embeddings(_ request: EmbeddingRequest, context: GatewayRequestContext) async throws -> Response {
        let signal = await ClientDisconnectWatcher.signal(of: context.channel)
        let caller = self.caller
        let inputs = request.inputs
        let (vectors, card) = try await signal.unlessClientLeaves {
            try await caller.call(model: request.model, ability: .embed) { lease in try await lease.connection.embed(inputs) }
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
            ("object", .string("list")), ("data", .array(data)), ("model", .string(card.name)),
            ("usage", .object([("prompt_tokens", .integer(0)), ("total_tokens", .integer(0))])),
        ]))
    }
}
