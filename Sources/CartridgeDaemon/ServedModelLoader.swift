import CartridgeInference
import CartridgeWire
import Crypto
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Turns what the operator named (an image, or a raw checkpoint for development) into a model.
public enum ServedModelLoader {
    public static func loadImage(path: String, trustedKeysPath: String?, logger: Logger) throws(ModelError) -> any ServedModel {
        throw ModelError(.unsupported, "cartridge images are not supported by this build yet")
    }

    /// Development mode: a llama2.c checkpoint (v0 fp32 or v2 Q8_0) and its tokenizer.bin, served
    /// unverified. The digest reported is the SHA-256 of the checkpoint file.
    public static func loadCheckpoint(path: String, tokenizerPath: String?, logger: Logger) throws(ModelError) -> any ServedModel {
        do {
            let checkpoint = try LlamaCheckpoint(path: path)
            let tokenizer = try tokenizerPath.map { (path: String) throws(InferenceError) in
                try LlamaTokenizer(path: path, vocabSize: checkpoint.config.vocab)
            }
            let model = try LlamaModel(weights: checkpoint.weights, tokenizer: tokenizer, maximumWorkers: 2)
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
                    publisher: "unknown (raw checkpoint)"))
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.internalError, "cannot load \(path): \(error)")
        }
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
