import ArgumentParser
import CartridgeDaemon
import Logging

/// Which model to serve.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Cartridge image to serve (verified before anything is served).")
    var image: String?

    @Option(name: .long, help: "Development: serve a raw llama2.c checkpoint instead of an image.")
    var checkpoint: String?

    @Option(name: .long, help: "Development: llama2.c tokenizer.bin for --checkpoint (without it, prompts are token ids only).")
    var tokenizer: String?

    @Option(name: .long, help: "File of trusted publisher keys; the image must carry a signature by one of them.")
    var trustedKeys: String?

    func validate() throws {
        switch (image, checkpoint) {
        case (nil, nil): throw ValidationError("give --image IMAGE (or --checkpoint FILE --tokenizer FILE)")
        case (.some, .some): throw ValidationError("give either --image or --checkpoint, not both")
        default: break
        }
    }

    func load(logger: Logger) throws -> any ServedModel {
        if let image {
            return try ServedModelLoader.loadImage(path: image, trustedKeysPath: trustedKeys, logger: logger)
        }
        return try ServedModelLoader.loadCheckpoint(path: checkpoint!, tokenizerPath: tokenizer, logger: logger)
    }
}
