/// `POST /v1/embeddings`, parsed and checked.
struct EmbeddingRequest: Sendable {
    enum Encoding: Sendable { case float, base64 }

    var model: String
    var inputs: [String]
    var encoding: Encoding
    /// `dimensions`: must equal the model's when given (vectors are not truncated).
    var dimensions: Int?

    /// Inputs in one request, at most (OpenAI's limit).
    static let maximumInputs = 2048

    init(fields: RequestFields) throws(GatewayError) {
        model = try fields.requiredString("model")
        guard let input = fields.value("input") else { throw GatewayError(.invalidRequest, "'input' is required", param: "input") }
        switch input {
        case .string(let text):
            inputs = [text]
        case .array(let elements):
            inputs = []
            for (index, element) in elements.enumerated() {
                switch element {
                case .string(let text): inputs.append(text)
                case .integer, .array:
                    throw GatewayError(
                        .invalidRequest, "'input[\(index)]': token-id input is not supported; send text", param: "input")
                default:
                    throw GatewayError(.invalidRequest, "'input[\(index)]' must be a string, not \(element.typeName)", param: "input")
                }
            }
        default:
            throw GatewayError(.invalidRequest, "'input' must be a string or a list of strings, not \(input.typeName)", param: "input")
        }
        guard !inputs.isEmpty else { throw GatewayError(.invalidRequest, "'input' is an empty list", param: "input") }
        guard inputs.count <= EmbeddingRequest.maximumInputs else {
            throw GatewayError(.invalidRequest, "'input' holds \(inputs.count) texts; at most \(EmbeddingRequest.maximumInputs)", param: "input")
        }
        if let index = inputs.firstIndex(where: \.isEmpty) {
            throw GatewayError(.invalidRequest, "'input[\(index)]' is empty", param: "input")
        }
        switch try fields.string("encoding_format") ?? "float" {
        case "float": encoding = .float
        case "base64": encoding = .base64
        case let other: throw GatewayError(.invalidRequest, "'encoding_format' is '\(other)'; use 'float' or 'base64'", param: "encoding_format")
        }
        dimensions = try fields.integer("dimensions", in: 1...65536).map { Int($0) }
    }
}
