import ArgumentParser
import CartridgeDaemon
import CartridgeInference
import Logging

/// Which model to serve.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Cartridge image to serve (verified before anything is served).")
    var image: String?

    @Option(name: .long, help: "Development: serve a raw llama2.c checkpoint instead of an image.")
    var checkpoint: String?

    @Option(name: .long, help: "Development: llama2.c tokenizer.bin for --checkpoint (without it, prompts are token ids only).")
    var tokenizer: String?

    @Option(name: .long, help: "Development: serve a sentence-embedding model directory (config.json, vocab.txt, tokenizer.json, model.safetensors).")
    var embeddingModel: String?

    @Option(name: .long, help: "Development: serve a GGUF file (Llama-family chat model) instead of an image.")
    var gguf: String?

    @Option(name: .long, help: "File of trusted publisher keys; the image must carry a signature by one of them.")
    var trustedKeys: String?

    @Option(name: .long, help: "Inference threads of a decoder model (the power policy may use fewer).")
    var threads: Int = 2

    @Option(name: .long, help: "KV-cache memory (MiB) that running generations and the prompt-prefix cache may use together; a generation that does not fit gets BUSY. Default: four full contexts.")
    var kvCacheMib: Int?

    @Option(name: .long, help: "KV-cache element type of a GGUF model: q16 (the default: 16-bit blocks of 32 with a scale, 53 % of f32's memory, about f32's accuracy), f32 (exact), or f16 (half of f32's memory, as llama.cpp's default; 2-4x the logit error of f32). llama2.c checkpoints always use f32.")
    var kvCacheType: KVCacheType?

    func validate() throws {
        let sources = [image, checkpoint, embeddingModel, gguf].compactMap { $0 }
        if sources.isEmpty {
            throw ValidationError("give --image IMAGE (or --gguf FILE, --checkpoint FILE [--tokenizer FILE], or --embedding-model DIR)")
        }
        if sources.count > 1 { throw ValidationError("give exactly one of --image, --gguf, --checkpoint, --embedding-model") }
        if threads < 1 || threads > 64 { throw ValidationError("--threads must be 1...64") }
        if let kvCacheMib, kvCacheMib < 1 { throw ValidationError("--kv-cache-mib must be at least 1") }
    }

    var decoderTuning: ServedModelLoader.DecoderTuning {
        ServedModelLoader.DecoderTuning(threads: threads, kvCacheBytes: kvCacheMib.map { $0 << 20 }, kvCacheType: kvCacheType)
    }

    func load(logger: Logger) throws -> any ServedModel {
        if let image {
            return try ServedModelLoader.loadImage(path: image, trustedKeysPath: trustedKeys, tuning: decoderTuning, logger: logger)
        }
        if let gguf {
            return try ServedModelLoader.loadGGUF(path: gguf, tuning: decoderTuning, logger: logger)
        }
        if let embeddingModel {
            return try ServedModelLoader.loadEmbeddingModel(directory: embeddingModel, logger: logger)
        }
        return try ServedModelLoader.loadCheckpoint(path: checkpoint!, tokenizerPath: tokenizer, tuning: decoderTuning, logger: logger)
    }
}
