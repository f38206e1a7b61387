/// MODEL_CARD (0x82), the reply to INFO: what model this cartridge holds.
public struct ModelCard: WireMessage {
    public static let frameType = FrameType.modelCard
    public var name: String
    /// "llama", "bert"...
    public var family: String
    /// Hyperparameters in words, e.g. "decoder dim=288 layers=6 heads=6 kv_heads=6 hidden=768".
    public var architecture: String
    public var parameterCount: UInt64
    /// "f32", "q8_0/32"...
    public var quantization: String
    public var contextLength: UInt32
    public var vocabularySize: UInt32
    /// "llama2c-bpe", "wordpiece"...
    public var tokenizer: String
    /// SHA-256 of the image (32 bytes).
    public var imageDigest: [UInt8]
    public var licence: String
    public var publisher: String
    /// Length of EMBED vectors; 0 for models without EMBED.
    public var embeddingDimension: UInt32

    public init(
        name: String, family: String, architecture: String, parameterCount: UInt64, quantization: String,
        contextLength: UInt32, vocabularySize: UInt32, tokenizer: String, imageDigest: [UInt8], licence: String,
        publisher: String, embeddingDimension: UInt32
    ) {
        self.name = name
        self.family = family
        self.architecture = architecture
        self.parameterCount = parameterCount
        self.quantization = quantization
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.tokenizer = tokenizer
        self.imageDigest = imageDigest
        self.licence = licence
        self.publisher = publisher
        self.embeddingDimension = embeddingDimension
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        name = try reader.readString("name")
        family = try reader.readString("family")
        architecture = try reader.readString("architecture")
        parameterCount = try reader.readUInt64("parameter_count")
        quantization = try reader.readString("quantization")
        contextLength = try reader.readUInt32("context_length")
        vocabularySize = try reader.readUInt32("vocabulary_size")
        tokenizer = try reader.readString("tokenizer")
        imageDigest = try reader.readBytes("image_digest")
        licence = try reader.readString("licence")
        publisher = try reader.readString("publisher")
        embeddingDimension = try reader.readUInt32("embedding_dimension")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(name)
        writer.write(family)
        writer.write(architecture)
        writer.write(parameterCount)
        writer.write(quantization)
        writer.write(contextLength)
        writer.write(vocabularySize)
        writer.write(tokenizer)
        writer.write(bytes: imageDigest)
        writer.write(licence)
        writer.write(publisher)
        writer.write(embeddingDimension)
    }
}
