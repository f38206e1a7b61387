/// The shape of a BERT encoder (Hugging Face config.json names in the comments).
public struct BertConfig: Hashable, Sendable {
    /// `vocab_size`
    public var vocabularySize: Int
    /// `hidden_size`: also the embedding dimension after mean pooling.
    public var hiddenSize: Int
    /// `num_hidden_layers`
    public var layerCount: Int
    /// `num_attention_heads`
    public var headCount: Int
    /// `intermediate_size`
    public var intermediateSize: Int
    /// `max_position_embeddings`: the most tokens one sentence can have.
    public var maximumPositions: Int
    /// `type_vocab_size`
    public var tokenTypeCount: Int
    /// `layer_norm_eps`
    public var layerNormEpsilon: Float

    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        maximumPositions: Int, tokenTypeCount: Int = 2, layerNormEpsilon: Float = 1e-12
    ) throws(InferenceError) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maximumPositions = maximumPositions
        self.tokenTypeCount = tokenTypeCount
        self.layerNormEpsilon = layerNormEpsilon
        try validate()
    }

    /// sentence-transformers/all-MiniLM-L6-v2: 6 layers, 384 wide, 12 heads, 1536 FFN, 512 positions.
    public static let allMiniLML6v2 = try! BertConfig(
        vocabularySize: 30522, hiddenSize: 384, layerCount: 6, headCount: 12, intermediateSize: 1536,
        maximumPositions: 512)

    public var headSize: Int { hiddenSize / headCount }

    /// Reads a Hugging Face BERT config.json (`hidden_act` must be "gelu", positions "absolute").
    public init(configJSON bytes: [UInt8]) throws(InferenceError) {
        let json = try JSONParser.parse(bytes, source: "config.json", errorCode: .invalidConfiguration)
        func integer(_ key: String) throws(InferenceError) -> Int {
            guard let value = json[key]?.integerValue else {
                throw InferenceError(.invalidConfiguration, "config.json: '\(key)' is missing or not an integer")
            }
            return value
        }
        if let activation = json["hidden_act"]?.stringValue, activation != "gelu" {
            throw InferenceError(.invalidConfiguration, "config.json: hidden_act '\(activation)' is not supported (only gelu)")
        }
        if let positions = json["position_embedding_type"]?.stringValue, positions != "absolute" {
            throw InferenceError(.invalidConfiguration, "config.json: position_embedding_type '\(positions)' is not supported")
        }
        try self.init(
            vocabularySize: try integer("vocab_size"), hiddenSize: try integer("hidden_size"),
            layerCount: try integer("num_hidden_layers"), headCount: try integer("num_attention_heads"),
            intermediateSize: try integer("intermediate_size"), maximumPositions: try integer("max_position_embeddings"),
            tokenTypeCount: json["type_vocab_size"]?.integerValue ?? 2,
            layerNormEpsilon: Float(json["layer_norm_eps"]?.doubleValue ?? 1e-12))
    }

    private func validate() throws(InferenceError) {
        func bad(_ message: String) -> InferenceError { InferenceError(.invalidConfiguration, "BertConfig: \(message)") }
        for (name, value) in [
            ("vocabularySize", vocabularySize), ("hiddenSize", hiddenSize), ("layerCount", layerCount),
            ("headCount", headCount), ("intermediateSize", intermediateSize), ("maximumPositions", maximumPositions),
            ("tokenTypeCount", tokenTypeCount),
        ] where value <= 0 || value > 1 << 24 {
            throw bad("\(name) \(value) is out of range")
        }
        guard hiddenSize % headCount == 0 else { throw bad("hiddenSize \(hiddenSize) is not a multiple of headCount \(headCount)") }
        guard layerNormEpsilon.isFinite, layerNormEpsilon >= 0 else { throw bad("layerNormEpsilon \(layerNormEpsilon) is invalid") }
    }
}
