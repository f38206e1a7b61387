public import Logging
import CartridgeWire

/// Turns what the operator named (an image, or a raw checkpoint for development) into a model.
public enum ServedModelLoader {
    public static func loadImage(path: String, trustedKeysPath: String?, logger: Logger) throws(ModelError) -> any ServedModel {
        throw ModelError(.unsupported, "cartridge images are not supported by this build yet")
    }

    public static func loadCheckpoint(path: String, tokenizerPath: String, logger: Logger) throws(ModelError) -> any ServedModel {
        throw ModelError(.unsupported, "llama2.c checkpoints are not supported by this build yet")
    }
}
