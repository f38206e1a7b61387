import CartridgeTokenizers
public import CartridgeInference
import CartridgeGGML
import CartridgeGGUF
import CartridgeTemplate

/// The GGUF adapter: burns a Llama-family GGUF file into an image and builds a `LlamaModel` from a
/// verified image (docs/IMAGE.md, "GGUF models").
///
/// Tensors keep their ggml types and bytes (renamed to the canonical `LlamaWeights` names); the
/// tokenizer section holds a tensor-less GGUF with every metadata key of the source (vocabulary,
/// merges, token types, special-token ids, chat template, hyperparameters), read back with the
/// same GGUF reader. Everything the cartridge will need at chat time is checked at burn time:
/// architecture, tensor types and shapes, the tokenizer, and the chat template, which is parsed
/// and rendered once.
public enum GGUFImage {
    public static let family = "llama"
    public static let architecture = "llama-gguf"
    public static let tokenizerKind = "gguf-metadata"

    /// Card fields that override the GGUF's own (`general.name`, `general.license`).
    public struct Card: Hashable, Sendable {
        public var name: String?
        public var license: String?
        public var publisher: String
        public var createdBy: String
        public var createdAt: String?
        public var extra: [String: String]

        public init(
            name: String? = nil, license: String? = nil, publisher: String, createdBy: String = "cartridge burn", createdAt: String? = nil,
            extra: [String: String] = [:]
        ) {
            self.name = name
            self.license = license
            self.publisher = publisher
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.extra = extra
        }
    }

    /// A GGUF file mapped and checked: the model description (configuration, tokenizer, template).
    public struct Source: @unchecked Sendable {
        public let file: GGUFFile
        public let model: GGUFLlamaModel
        public let mapping: MappedFile
    }

    /// Maps and checks `path` as a model this engine can serve.
    public static func open(ggufPath path: String) throws(ImageError) -> Source {
        let mapping: MappedFile
        do { mapping = try MappedFile(path: path) } catch {
            throw ImageError(.malformedSource, "GGUF '\(path)': \(error.message)", cause: error)
        }
        let file: GGUFFile
        do { file = try GGUFFile(bytes: mapping.bytes) } catch {
            throw ImageError(.malformedSource, "GGUF '\(path)': \(error)", cause: error)
        }
        let model: GGUFLlamaModel
        do { model = try GGUFLlamaModel(file: file) } catch {
            throw ImageError(.malformedSource, "GGUF '\(path)': \(error.message)", cause: error)
        }
        try checkChatTemplate(model)
        return Source(file: file, model: model, mapping: mapping)
    }

    /// Parses the chat template and renders a short conversation with it, so a template this
    /// cartridge cannot render is refused now, not at chat time.
    static func checkChatTemplate(_ model: GGUFLlamaModel) throws(ImageError) {
        guard let source = model.chatTemplate else { return }
        do {
            let template = try ChatTemplate(source: source)
            _ = try template.render(
                messages: [(role: "user", content: "Hello")], addGenerationPrompt: true,
                bosToken: tokenText(model.tokenizer.bosID, model), eosToken: tokenText(model.tokenizer.eosID, model))
        } catch {
            throw ImageError(.malformedSource, "the chat template cannot be used: \(error)", cause: error)
        }
    }

    static func tokenText(_ id: Int32?, _ model: GGUFLlamaModel) -> String {
        guard let id else { return "" }
        return String(decoding: model.tokenizer.bytes(for: id, renderSpecial: true), as: UTF8.self)
    }

    /// Burns the GGUF at `ggufPath` to `outputPath`; the manifest records the source's SHA-256.
    @discardableResult
    public static func burn(ggufPath: String, card: Card, signingKey: ImageSigningKey?, to outputPath: String) throws(ImageError) -> ImageDigest {
        let source = try open(ggufPath: ggufPath)
        var burner = try burner(source: source, card: card)
        burner.manifest.extra["source.gguf.sha256"] = hexString(ImageCrypto.sha256(source.mapping.bytes))
        burner.signingKey = signingKey
        return try withExtendedLifetime(source) { () throws(ImageError) in try burner.burn(to: outputPath) }
    }

    /// The burner inputs (the source's mapping must outlive the burn).
    public static func burner(source: Source, card: Card) throws(ImageError) -> ImageBurner {
        let config = source.model.config
        var tensors: [ImageTensorInput] = []
        for (name, shape) in LlamaWeights.tensorLayout(for: config) {
            let ggufName = GGUFLlamaModel.ggufName(ofCanonical: name)
            guard let info = source.file.tensor(named: ggufName) else { throw ImageError(.malformedSource, "tensor '\(ggufName)' is missing") }
            let bytes = source.file.data(of: info)
            if info.type == .f32 {
                tensors.append(.float32(name, shape: shape, bytes.assumingMemoryBound(to: Float.self)))
            } else {
                tensors.append(ImageTensorInput(name: name, shape: shape, source: .ggml(info.type, blocks: bytes), storedAs: .ggml(info.type)))
            }
        }
        var metadata = GGUFWriter()
        for entry in source.file.metadata where entry.key != "general.alignment" { metadata.add(entry.key, entry.value) }
        let blob: [UInt8]
        do { blob = try metadata.serialize() } catch { throw ImageError(.malformedSource, "GGUF metadata: \(error)", cause: error) }
        var extra = card.extra
        extra["tokenizer.description"] = source.model.tokenizerDescription
        extra["chat_template"] = source.model.chatTemplate == nil ? "none" : "gguf"
        extra["source.format"] = "gguf v\(source.file.version)"
        let manifest = ImageManifest(
            name: card.name ?? (source.model.name.isEmpty ? "gguf-model" : source.model.name), family: family, architecture: architecture,
            hyperparameters: [
                "dim": config.dim, "hidden_dim": config.hiddenDim, "layers": config.layers, "heads": config.heads,
                "kv_heads": config.kvHeads, "vocab_size": config.vocab, "seq_len": config.seqLen,
                "shared_classifier": config.sharedClassifier ? 1 : 0, "rope_dimensions": config.ropeDimensions,
            ],
            tokenizerKind: tokenizerKind, contextLength: config.seqLen, vocabularySize: config.vocab,
            license: card.license ?? (source.model.license.isEmpty ? "unknown" : source.model.license), publisher: card.publisher,
            createdBy: card.createdBy, createdAt: card.createdAt, extra: extra)
        return ImageBurner(manifest: manifest, tokenizer: blob, tensors: tensors)
    }

    /// The model description stored in a verified image's tokenizer section.
    public static func description(of image: VerifiedImage) throws(ImageError) -> (model: GGUFLlamaModel, metadata: GGUFFile) {
        try image.manifest.require(family: family, architecture: architecture)
        guard image.manifest.tokenizerKind == tokenizerKind else {
            throw ImageError(.manifestMismatch, "tokenizer kind is '\(image.manifest.tokenizerKind)', expected '\(tokenizerKind)'")
        }
        do {
            let metadata = try GGUFFile(bytes: image.tokenizerBlob)
            let model = try GGUFLlamaModel(metadata: metadata, hasOutputTensor: image.tensor(named: "output") != nil)
            let hyperparameter = image.manifest.hyperparameter
            guard model.config.dim == (try hyperparameter("dim")), model.config.layers == (try hyperparameter("layers")),
                model.config.vocab == image.manifest.vocabularySize, model.config.seqLen == image.manifest.contextLength
            else { throw ImageError(.manifestMismatch, "the manifest's hyperparameters disagree with the GGUF metadata") }
            return (model, metadata)
        } catch let error as ImageError {
            throw error
        } catch let error as InferenceError {
            throw ImageError(.manifestMismatch, "GGUF metadata: \(error.message)", cause: error)
        } catch {
            throw ImageError(.manifestMismatch, "GGUF metadata: \(error)", cause: error)
        }
    }

    /// A ready model: tensors in place from the mapping, tokenizer and template from the metadata.
    public static func makeModel(
        from image: VerifiedImage, maximumWorkers: Int = 2, kvCacheType: KVCacheType? = nil
    ) throws(ImageError) -> (LlamaModel, GGUFLlamaModel) {
        let description = try description(of: image).0.withKVCache(kvCacheType)
        var views: [String: TensorView] = [:]
        for info in image.tensors {
            let tensor = image.tensor(named: info.name)!
            if let values = tensor.float32Values {
                views[info.name] = TensorView(.float32(values.baseAddress!), shape: info.shape)
            } else if let ggml = tensor.ggmlBlocks {
                views[info.name] = TensorView(.ggml(ggml.type, blocks: ggml.blocks.baseAddress!), shape: info.shape)
            } else {
                throw ImageError(.manifestMismatch, "tensor '\(info.name)' is \(info.type); a GGUF image holds fp32 and ggml tensors")
            }
        }
        do {
            let weights = try LlamaWeights(config: description.config, tensors: views, owner: image)
            return (try LlamaModel(weights: weights, tokenizer: description.tokenizer, maximumWorkers: maximumWorkers), description)
        } catch {
            throw ImageError(.manifestMismatch, "cannot build the model: \(error.message)", cause: error)
        }
    }
}
