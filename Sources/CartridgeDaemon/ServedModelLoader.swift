import CartridgeGGML
import CartridgeImage
import CartridgeInference
import CartridgeTemplate
import CartridgeWire
import Crypto
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Turns what the operator named (an image, or a raw checkpoint for development) into a model.
public enum ServedModelLoader {
    /// How a decoder model runs: its inference threads, KV-cache budget (nil: the scheduler's
    /// default) and, for GGUF models, the KV cache's element type (nil: the model's default, q16).
    public struct DecoderTuning: Sendable {
        public var threads: Int
        public var kvCacheBytes: Int?
        public var kvCacheType: KVCacheType?
        public init(threads: Int = 2, kvCacheBytes: Int? = nil, kvCacheType: KVCacheType? = nil) {
            self.threads = max(1, threads)
            self.kvCacheBytes = kvCacheBytes
            self.kvCacheType = kvCacheType
        }
    }

    /// A cartridge image: mapped read-only and verified (digest, and signature when trusted keys
    /// are given) before anything is served.
    public static func loadImage(
        path: String, trustedKeysPath: String?, tuning: DecoderTuning = DecoderTuning(), logger: Logger
    ) throws(ModelError) -> any ServedModel {
        do {
            let trusted = try trustedKeysPath.map { (keysPath: String) throws(ImageError) -> TrustedKeys in
                try TrustedKeys(contentsOf: keysPath)
            }
            let image = try CartridgeImage.open(path: path, trustedKeys: trusted)
            let manifest = image.manifest
            logger.info(
                "image verified",
                metadata: [
                    "image.digest": "\(image.digest.hex)", "image.name": "\(manifest.name)",
                    "image.hashing_ms": "\(image.hashingDuration.components.seconds * 1000 + image.hashingDuration.components.attoseconds / 1_000_000_000_000_000)",
                    "image.signer": "\(image.signer?.name ?? "unsigned")",
                ])
            switch manifest.family {
            case GGUFImage.family where manifest.architecture == GGUFImage.architecture:
                let (model, description) = try GGUFImage.makeModel(
                    from: image, maximumWorkers: tuning.threads, kvCacheType: tuning.kvCacheType)
                return try served(
                    model, description: description, quantization: manifest.quantization, name: manifest.name,
                    digest: image.digest.bytes, licence: manifest.license, publisher: manifest.publisher, tuning: tuning)
            case LlamaImage.family:
                let model = try LlamaImage.makeModel(from: image, maximumWorkers: tuning.threads)
                return LlamaServedModel(
                    model: model,
                    card: LlamaServedModel.describe(
                        model, quantization: manifest.quantization, name: manifest.name, imageDigest: image.digest.bytes,
                        licence: manifest.license, publisher: manifest.publisher),
                    kvBudgetBytes: tuning.kvCacheBytes)
            case BertImage.family:
                let embedder = try BertImage.makeEmbedder(from: image)
                return BertServedModel(
                    embedder: embedder,
                    card: BertServedModel.describe(
                        embedder, name: manifest.name, imageDigest: image.digest.bytes, licence: manifest.license,
                        publisher: manifest.publisher))
            default:
                throw ModelError(.unsupported, "images of family '\(manifest.family)' cannot be served by this build")
            }
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.internalError, "refusing \(path): \(error)")
        }
    }

    /// Development mode: a Hugging Face sentence-embedding directory (config.json, vocab.txt,
    /// tokenizer.json, model.safetensors), served unverified. The digest is the SHA-256 of
    /// model.safetensors.
    public static func loadEmbeddingModel(directory: String, logger: Logger) throws(ModelError) -> any ServedModel {
        do {
            let embedder = try SentenceEmbedder.load(directory: directory)
            let name = String(directory.split(separator: "/").last ?? Substring(directory))
            logger.info("serving an embedding model directory (development mode)", metadata: ["path": "\(directory)"])
            return BertServedModel(
                embedder: embedder,
                card: BertServedModel.describe(
                    embedder, name: name, imageDigest: try fileDigest(directory + "/model.safetensors"),
                    licence: "see the model directory", publisher: "unknown (model directory)"))
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.internalError, "cannot load \(directory): \(error)")
        }
    }

    /// Development mode: a llama2.c checkpoint (v0 fp32 or v2 Q8_0) and its tokenizer.bin, served
    /// unverified. The digest reported is the SHA-256 of the checkpoint file.
    public static func loadCheckpoint(
        path: String, tokenizerPath: String?, tuning: DecoderTuning = DecoderTuning(), logger: Logger
    ) throws(ModelError) -> any ServedModel {
        do {
            let checkpoint = try LlamaCheckpoint(path: path)
            let tokenizer = try tokenizerPath.map { (path: String) throws(InferenceError) in
                try LlamaTokenizer(path: path, vocabSize: checkpoint.config.vocab)
            }
            let model = try LlamaModel(weights: checkpoint.weights, tokenizer: tokenizer, maximumWorkers: tuning.threads)
            let quantization: String
            switch checkpoint.format {
            case .float32: quantization = "f32"
            case .q8_0(let groupSize): quantization = "q8_0/\(groupSize)"
            }
            let name = String(path.split(separator: "/").last ?? Substring(path))
            let digest = try fileDigest(path)
            logger.info("serving a raw checkpoint (development mode, not a verified image)", metadata: ["path": "\(path)"])
            return LlamaServedModel(
                model: model,
                card: LlamaServedModel.describe(
                    model, quantization: quantization, name: name, imageDigest: digest, licence: "unknown",
                    publisher: "unknown (raw checkpoint)"),
                kvBudgetBytes: tuning.kvCacheBytes)
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.internalError, "cannot load \(path): \(error)")
        }
    }

    /// Development mode: a GGUF file (Llama-family architecture) served unverified, straight from
    /// its mapping. The digest reported is the SHA-256 of the file.
    public static func loadGGUF(path: String, tuning: DecoderTuning = DecoderTuning(), logger: Logger) throws(ModelError) -> any ServedModel {
        do {
            let source = try GGUFImage.open(ggufPath: path)
            let model = try source.model.withKVCache(tuning.kvCacheType)
                .makeModel(file: source.file, owner: source.mapping, maximumWorkers: tuning.threads)
            let name = source.model.name.isEmpty ? String(path.split(separator: "/").last ?? Substring(path)) : source.model.name
            logger.info("serving a GGUF file (development mode, not a verified image)", metadata: ["path": "\(path)"])
            return try served(
                model, description: source.model, quantization: "ggml:" + source.model.tensorTypes.map { $0.name.lowercased() }.joined(separator: "+"),
                name: name, digest: try fileDigest(path), licence: source.model.license.isEmpty ? "unknown" : source.model.license,
                publisher: "unknown (GGUF file)", tuning: tuning)
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.internalError, "cannot load \(path): \(error)")
        }
    }

    static func served(
        _ model: LlamaModel, description: GGUFLlamaModel, quantization: String, name: String, digest: [UInt8], licence: String,
        publisher: String, tuning: DecoderTuning
    ) throws -> LlamaServedModel {
        let template = try description.chatTemplate.map { try ChatTemplate(source: $0) }
        return LlamaServedModel(
            model: model,
            card: LlamaServedModel.describe(
                model, quantization: quantization, name: name, imageDigest: digest, licence: licence, publisher: publisher,
                tokenizer: description.tokenizerDescription),
            chatTemplate: template, kvBudgetBytes: tuning.kvCacheBytes)
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    static func fileDigest(_ path: String) throws(ModelError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw ModelError(.internalError, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return Array(hasher.finalize())
    }
}
