import CartridgeGGML
public import CartridgeInference

/// The llama2.c adapter: burns a checkpoint + tokenizer.bin into an image, and builds a
/// `LlamaModel` from a verified image (tensors used in place from the mapping).
public enum LlamaImage {
    /// How to store the matrices (norm vectors always stay fp32).
    public enum Storage: Hashable, Sendable {
        /// As in the checkpoint (fp32 for v0, Q8_0 for v2).
        case asCheckpoint
        case float32
        /// Quantize fp32 matrices at burn time; the group size is the largest one ≤ `preferredGroupSize`
        /// that divides every row length.
        case q8_0(preferredGroupSize: Int)
    }

    /// The descriptive part of the model card; the rest comes from the checkpoint.
    public struct Card: Hashable, Sendable {
        public var name: String
        public var license: String
        public var publisher: String
        public var createdBy: String
        public var createdAt: String?
        public var extra: [String: String]

        public init(
            name: String, license: String, publisher: String, createdBy: String = "cartridge burn", createdAt: String? = nil,
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

    public static let family = "llama"
    public static let architecture = "llama2"
    public static let tokenizerKind = "llama2-bin"

    /// Burns `checkpointPath` (llama2.c v0 fp32 or v2 Q8_0) and `tokenizerPath` (tokenizer.bin) to
    /// `outputPath`. The manifest records the SHA-256 of both inputs (`source.*`).
    @discardableResult
    public static func burn(
        checkpointPath: String, tokenizerPath: String, storage: Storage, card: Card, signingKey: ImageSigningKey?, to outputPath: String
    ) throws(ImageError) -> ImageDigest {
        let checkpointFile: MappedFile
        let checkpoint: LlamaCheckpoint
        do {
            checkpointFile = try MappedFile(path: checkpointPath)
            checkpoint = try LlamaCheckpoint(bytes: checkpointFile.bytes, owner: checkpointFile)
        } catch {
            throw ImageError(.malformedSource, "checkpoint '\(checkpointPath)': \(error.message)", cause: error)
        }
        let tokenizer = try readSmallFile(tokenizerPath, limit: 64 << 20, what: "tokenizer")
        let parsed = tokenizer.withUnsafeBytes { raw in
            Result { () throws(InferenceError) in try LlamaTokenizer(bytes: raw, vocabSize: checkpoint.config.vocab) }
        }
        if case .failure(let error) = parsed {
            throw ImageError(.malformedSource, "tokenizer '\(tokenizerPath)': \(error.message)", cause: error)
        }
        var burner = try burner(checkpoint: checkpoint, tokenizer: tokenizer, storage: storage, card: card)
        burner.manifest.extra["source.checkpoint.sha256"] = hexString(ImageCrypto.sha256(checkpointFile.bytes))
        burner.manifest.extra["source.tokenizer.sha256"] = tokenizer.withUnsafeBytes { hexString(ImageCrypto.sha256($0)) }
        burner.signingKey = signingKey
        return try withExtendedLifetime(checkpointFile) { () throws(ImageError) in try burner.burn(to: outputPath) }
    }

    /// The burner inputs for a parsed checkpoint (its buffers must outlive the burn).
    public static func burner(checkpoint: LlamaCheckpoint, tokenizer: [UInt8], storage: Storage, card: Card) throws(ImageError) -> ImageBurner {
        let config = checkpoint.config
        let matrixRows = checkpoint.tensors.filter { $0.tensor.shape.count == 2 }.map { $0.tensor.shape[1] }
        var tensors: [ImageTensorInput] = []
        for named in checkpoint.tensors {
            let view = named.tensor
            let isMatrix = view.shape.count == 2
            switch view.storage {
            case .float32(let pointer):
                let values = UnsafeBufferPointer(start: pointer, count: view.elementCount)
                var stored = ImageTensorType.float32
                if case .q8_0(let preferred) = storage, isMatrix {
                    stored = .q8_0(groupSize: Q8Quantizer.groupSize(preferred: preferred, rowLengths: matrixRows))
                }
                tensors.append(ImageTensorInput(name: named.name, shape: view.shape, source: .float32(values), storedAs: stored))
            case .ggml(let type, _):
                throw ImageError(.invalidInput, "tensor '\(named.name)' is \(type.name): burn GGUF models with --gguf")
            case .q8_0(let quants, let scales, let groupSize):
                if storage == .float32 {
                    throw ImageError(.invalidInput, "the checkpoint is Q8_0; it cannot be burned as fp32")
                }
                let count = view.elementCount
                tensors.append(
                    ImageTensorInput(
                        name: named.name, shape: view.shape,
                        source: .q8_0(
                            quants: UnsafeBufferPointer(start: quants, count: count),
                            scales: UnsafeRawBufferPointer(start: scales, count: count / groupSize * 4), groupSize: groupSize),
                        storedAs: .q8_0(groupSize: groupSize)))
            }
        }
        let manifest = ImageManifest(
            name: card.name, family: family, architecture: architecture,
            hyperparameters: [
                "dim": config.dim, "hidden_dim": config.hiddenDim, "layers": config.layers, "heads": config.heads,
                "kv_heads": config.kvHeads, "vocab_size": config.vocab, "seq_len": config.seqLen,
                "shared_classifier": config.sharedClassifier ? 1 : 0,
            ],
            tokenizerKind: tokenizerKind, contextLength: config.seqLen, vocabularySize: config.vocab, license: card.license,
            publisher: card.publisher, createdBy: card.createdBy, createdAt: card.createdAt, extra: card.extra)
        return ImageBurner(manifest: manifest, tokenizer: tokenizer, tensors: tensors)
    }

    /// The model configuration the manifest declares.
    public static func config(of manifest: ImageManifest) throws(ImageError) -> LlamaConfig {
        try manifest.require(family: family, architecture: architecture)
        let value = manifest.hyperparameter
        let config = LlamaConfig(
            dim: try value("dim"), hiddenDim: try value("hidden_dim"), layers: try value("layers"), heads: try value("heads"),
            kvHeads: try value("kv_heads"), vocab: try value("vocab_size"), seqLen: try value("seq_len"),
            sharedClassifier: try value("shared_classifier") == 1)
        guard config.vocab == manifest.vocabularySize, config.seqLen == manifest.contextLength else {
            throw ImageError(
                .manifestMismatch,
                "manifest vocab_size \(manifest.vocabularySize) / context_length \(manifest.contextLength) disagree with hparam.vocab_size \(config.vocab) / hparam.seq_len \(config.seqLen)")
        }
        do { try config.validate() } catch { throw ImageError(.manifestMismatch, "manifest hyperparameters: \(error.message)", cause: error) }
        return config
    }

    /// The weights of a verified image, as views into its mapping (no copy). The image stays
    /// mapped as long as the weights (or a model built from them) live.
    public static func weights(from image: VerifiedImage) throws(ImageError) -> LlamaWeights {
        let config = try config(of: image.manifest)
        var views: [String: TensorView] = [:]
        for info in image.tensors {
            let tensor = image.tensor(named: info.name)!
            if let values = tensor.float32Values {
                views[info.name] = TensorView(.float32(values.baseAddress!), shape: info.shape)
            } else if let q8 = tensor.q8_0 {
                views[info.name] = TensorView(
                    .q8_0(quants: q8.quants.baseAddress!, scales: UnsafeRawPointer(q8.scales.baseAddress!), groupSize: q8.groupSize),
                    shape: info.shape)
            } else if let ggml = tensor.ggmlBlocks {
                views[info.name] = TensorView(.ggml(ggml.type, blocks: ggml.blocks.baseAddress!), shape: info.shape)
            } else {
                throw ImageError(.manifestMismatch, "tensor '\(info.name)' is \(info.type); the Llama engine reads fp32, q8_0 and ggml types")
            }
        }
        do {
            return try LlamaWeights(config: config, tensors: views, owner: image)
        } catch {
            throw ImageError(.manifestMismatch, "the tensors do not fit the manifest's model: \(error.message)", cause: error)
        }
    }

    /// A ready model: weights in place from the mapping, tokenizer from the tokenizer section.
    public static func makeModel(from image: VerifiedImage, maximumWorkers: Int = 2) throws(ImageError) -> LlamaModel {
        let weights = try weights(from: image)
        guard image.manifest.tokenizerKind == tokenizerKind else {
            throw ImageError(.manifestMismatch, "tokenizer kind is '\(image.manifest.tokenizerKind)', expected '\(tokenizerKind)'")
        }
        do {
            let tokenizer = try LlamaTokenizer(bytes: image.tokenizerBlob, vocabSize: weights.config.vocab)
            return try LlamaModel(weights: weights, tokenizer: tokenizer, maximumWorkers: maximumWorkers)
        } catch {
            throw ImageError(.manifestMismatch, "cannot build the model: \(error.message)", cause: error)
        }
    }
}
