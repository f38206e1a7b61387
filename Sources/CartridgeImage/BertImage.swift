public import CartridgeInference

/// The embedding-cartridge adapter: burns a Hugging Face BERT model directory (config.json,
/// tokenizer.json or vocab.txt, model.safetensors) into an image, and builds a `SentenceEmbedder`
/// from a verified image (tensors used in place from the mapping).
///
/// Only the tensors the encoder reads are burned (`BertEncoder.tensorNames`, without the `bert.`
/// prefix some exports carry), in that canonical order, as fp32 (F16/BF16 sources are widened).
public enum BertImage {
    public static let family = "bert"
    public static let architecture = "bert-encoder"
    /// Tokenizer blob: the model's Hugging Face tokenizer.json, verbatim (vocabulary and settings).
    public static let tokenizerKindJSON = "wordpiece-json"
    /// Tokenizer blob: a vocab.txt only; BERT-uncased settings, truncation at `context_length`.
    public static let tokenizerKindVocabulary = "wordpiece-vocab"
    /// Manifest key for the LayerNorm epsilon (a decimal number, not an integer hyperparameter).
    public static let layerNormEpsilonKey = "layer_norm_eps"
    /// Manifest key for sentence-transformers' `max_seq_length` (sentence_bert_config.json), when the
    /// model directory has one: the truncation length, which overrides tokenizer.json's.
    public static let maximumSequenceLengthKey = "sentence_transformers.max_seq_length"

    /// Burns `directory` to `outputPath`. The manifest records the SHA-256 of each input file (`source.*`).
    @discardableResult
    public static func burn(
        modelDirectory directory: String, card: LlamaImage.Card, signingKey: ImageSigningKey?, to outputPath: String
    ) throws(ImageError) -> ImageDigest {
        let configBytes = try readSmallFile(directory + "/config.json", limit: 1 << 20, what: "config.json")
        let config: BertConfig
        do { config = try BertConfig(configJSON: configBytes) } catch {
            throw ImageError(.malformedSource, "\(directory)/config.json: \(error.message)", cause: error)
        }
        var extra = card.extra
        extra["source.config.sha256"] = configBytes.withUnsafeBytes { hexString(ImageCrypto.sha256($0)) }
        // The tokenizer: tokenizer.json when the directory has one (the model's own settings), else vocab.txt.
        let tokenizerKind: String
        let tokenizerBlob: [UInt8]
        if let json = try? readSmallFile(directory + "/tokenizer.json", limit: 64 << 20, what: "tokenizer.json") {
            (tokenizerKind, tokenizerBlob) = (tokenizerKindJSON, json)
            extra["source.tokenizer.sha256"] = json.withUnsafeBytes { hexString(ImageCrypto.sha256($0)) }
        } else {
            let vocabulary = try readSmallFile(directory + "/vocab.txt", limit: 64 << 20, what: "vocab.txt (no tokenizer.json)")
            (tokenizerKind, tokenizerBlob) = (tokenizerKindVocabulary, vocabulary)
            extra["source.vocabulary.sha256"] = vocabulary.withUnsafeBytes { hexString(ImageCrypto.sha256($0)) }
        }
        var contextLength = config.maximumPositions
        var overridesTruncation = false
        let sentenceConfigPath = directory + "/" + SentenceTransformersConfig.fileName
        if let sentenceConfigBytes = try? readSmallFile(sentenceConfigPath, limit: 1 << 20, what: SentenceTransformersConfig.fileName) {
            let sentenceConfig: SentenceTransformersConfig
            do { sentenceConfig = try SentenceTransformersConfig(json: sentenceConfigBytes) } catch {
                throw ImageError(.malformedSource, "\(sentenceConfigPath): \(error.message)", cause: error)
            }
            contextLength = sentenceConfig.truncationLength(positions: config.maximumPositions)
            overridesTruncation = true
            extra[maximumSequenceLengthKey] = "\(contextLength)"
            extra["source.sentence_bert_config.sha256"] = sentenceConfigBytes.withUnsafeBytes { hexString(ImageCrypto.sha256($0)) }
        }
        let tokenizer = try makeTokenizer(
            kind: tokenizerKind, blob: tokenizerBlob, contextLength: contextLength, config: config, overridesTruncation: overridesTruncation)
        extra[layerNormEpsilonKey] = "\(config.layerNormEpsilon)"

        let mapping: MappedFile
        let file: SafeTensorsFile
        do {
            mapping = try MappedFile(path: directory + "/model.safetensors")
            file = try SafeTensorsFile(bytes: mapping.bytes)
        } catch {
            throw ImageError(.malformedSource, "\(directory)/model.safetensors: \(error.message)", cause: error)
        }
        extra["source.safetensors.sha256"] = hexString(ImageCrypto.sha256(mapping.bytes))
        var tensors: [ImageTensorInput] = []
        var converted: [FloatStorage] = []  // F16/BF16 (or misaligned F32) widened to fp32
        for (name, shape) in BertEncoder.tensorNames(for: config) {
            let stored = file.entries[name] == nil && file.entries["bert." + name] != nil ? "bert." + name : name
            do {
                let (view, storage) = try file.floatTensor(stored, shape: shape)
                if let storage { converted.append(storage) }
                guard case .float32(let pointer) = view.storage else {
                    throw ImageError(.malformedSource, "\(directory)/model.safetensors: tensor '\(stored)' did not convert to fp32")
                }
                tensors.append(.float32(name, shape: shape, UnsafeBufferPointer(start: pointer, count: view.elementCount)))
            } catch let error as ImageError {
                throw error
            } catch let error as InferenceError {
                throw ImageError(.malformedSource, "\(directory)/model.safetensors: \(error.message)", cause: error)
            } catch {
                throw ImageError(.malformedSource, "\(directory)/model.safetensors: \(error)")
            }
        }
        let manifest = ImageManifest(
            name: card.name, family: family, architecture: architecture, hyperparameters: hyperparameters(of: config),
            tokenizerKind: tokenizerKind, contextLength: tokenizer.options.maximumLength, vocabularySize: config.vocabularySize,
            license: card.license, publisher: card.publisher, createdBy: card.createdBy, createdAt: card.createdAt, extra: extra)
        let burner = ImageBurner(manifest: manifest, tokenizer: tokenizerBlob, tensors: tensors, signingKey: signingKey)
        return try withExtendedLifetime((mapping, converted)) { () throws(ImageError) in try burner.burn(to: outputPath) }
    }

    /// `hparam.*` of a `bert-encoder` manifest.
    static func hyperparameters(of config: BertConfig) -> [String: Int] {
        [
            "vocab_size": config.vocabularySize, "hidden_size": config.hiddenSize, "layers": config.layerCount,
            "heads": config.headCount, "intermediate_size": config.intermediateSize, "max_positions": config.maximumPositions,
            "token_types": config.tokenTypeCount,
        ]
    }

    /// The encoder configuration the manifest declares.
    public static func config(of manifest: ImageManifest) throws(ImageError) -> BertConfig {
        try manifest.require(family: family, architecture: architecture)
        let value = manifest.hyperparameter
        var epsilon: Float = 1e-12
        if let text = manifest.extra[layerNormEpsilonKey] {
            guard let parsed = Float(text), parsed.isFinite, parsed >= 0 else {
                throw ImageError(.malformedManifest, "manifest \(layerNormEpsilonKey) '\(text)' is not a non-negative number")
            }
            epsilon = parsed
        }
        let (vocabulary, hidden, layers, heads) = (try value("vocab_size"), try value("hidden_size"), try value("layers"), try value("heads"))
        let (intermediate, positions, tokenTypes) = (try value("intermediate_size"), try value("max_positions"), try value("token_types"))
        let config: BertConfig
        do {
            config = try BertConfig(
                vocabularySize: vocabulary, hiddenSize: hidden, layerCount: layers, headCount: heads, intermediateSize: intermediate,
                maximumPositions: positions, tokenTypeCount: tokenTypes, layerNormEpsilon: epsilon)
        } catch {
            throw ImageError(.manifestMismatch, "manifest hyperparameters: \(error.message)", cause: error)
        }
        guard config.vocabularySize == manifest.vocabularySize else {
            throw ImageError(
                .manifestMismatch, "manifest vocab_size \(manifest.vocabularySize) disagrees with hparam.vocab_size \(config.vocabularySize)")
        }
        return config
    }

    /// A ready embedder: weights in place from the mapping (no copy), tokenizer from the tokenizer
    /// section. The image stays mapped as long as the embedder lives.
    public static func makeEmbedder(from image: VerifiedImage) throws(ImageError) -> SentenceEmbedder {
        let manifest = image.manifest
        let config = try config(of: manifest)
        var views: [String: TensorView] = [:]
        for (name, shape) in BertEncoder.tensorNames(for: config) {
            guard let tensor = image.tensor(named: name) else { throw ImageError(.manifestMismatch, "the image has no tensor '\(name)'") }
            guard tensor.info.shape == shape else {
                throw ImageError(.manifestMismatch, "tensor '\(name)' has shape \(tensor.info.shape); the manifest's encoder needs \(shape)")
            }
            guard let values = tensor.float32Values, let base = values.baseAddress else {
                throw ImageError(.manifestMismatch, "tensor '\(name)' is \(tensor.info.type); the encoder reads fp32")
            }
            views[name] = TensorView(.float32(base), shape: shape)
        }
        let overridesTruncation = manifest.extra[maximumSequenceLengthKey] != nil
        if let recorded = manifest.extra[maximumSequenceLengthKey], Int(recorded) != manifest.contextLength {
            throw ImageError(
                .manifestMismatch, "manifest \(maximumSequenceLengthKey) '\(recorded)' disagrees with context_length \(manifest.contextLength)")
        }
        let tokenizer = try makeTokenizer(
            kind: manifest.tokenizerKind, blob: Array(image.tokenizerBlob), contextLength: manifest.contextLength, config: config,
            overridesTruncation: overridesTruncation)
        guard tokenizer.options.maximumLength == manifest.contextLength else {
            throw ImageError(
                .manifestMismatch,
                "the tokenizer truncates at \(tokenizer.options.maximumLength) tokens, the manifest's context_length is \(manifest.contextLength)")
        }
        do {
            let encoder = try BertEncoder(tensors: views, config: config, owners: [image])
            return try SentenceEmbedder(tokenizer: tokenizer, encoder: encoder)
        } catch {
            throw ImageError(.manifestMismatch, "cannot build the encoder: \(error.message)", cause: error)
        }
    }

    /// The WordPiece tokenizer of a tokenizer blob; its vocabulary must match the encoder's.
    /// `overridesTruncation`: truncate at `contextLength` (sentence-transformers' max_seq_length)
    /// rather than at tokenizer.json's own length.
    static func makeTokenizer(
        kind: String, blob: [UInt8], contextLength: Int, config: BertConfig, overridesTruncation: Bool = false
    ) throws(ImageError) -> WordPieceTokenizer {
        var tokenizer: WordPieceTokenizer
        do {
            switch kind {
            case tokenizerKindJSON:
                tokenizer = try WordPieceTokenizer(tokenizerJSON: blob, fallbackMaximumLength: min(contextLength, config.maximumPositions))
                if overridesTruncation { tokenizer = try tokenizer.truncating(at: contextLength) }
            case tokenizerKindVocabulary:
                var options = WordPieceOptions()
                options.maximumLength = contextLength
                tokenizer = try WordPieceTokenizer(vocabulary: blob, options: options)
            default:
                throw ImageError(.manifestMismatch, "tokenizer kind '\(kind)' is not a WordPiece tokenizer")
            }
        } catch let error as ImageError {
            throw error
        } catch let error as InferenceError {
            throw ImageError(.malformedSource, "tokenizer (\(kind)): \(error.message)", cause: error)
        } catch {
            throw ImageError(.malformedSource, "tokenizer (\(kind)): \(error)")
        }
        guard tokenizer.vocabularySize == config.vocabularySize else {
            throw ImageError(
                .manifestMismatch, "the tokenizer has \(tokenizer.vocabularySize) tokens, the encoder's vocab_size is \(config.vocabularySize)")
        }
        guard tokenizer.options.maximumLength <= config.maximumPositions else {
            throw ImageError(
                .manifestMismatch,
                "the tokenizer truncates at \(tokenizer.options.maximumLength) tokens, the encoder has \(config.maximumPositions) positions")
        }
        return tokenizer
    }
}
