import ArgumentParser
import CartridgeImage

struct BurnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burn",
        abstract:
            "Burn a cartridge image from a GGUF chat model, a llama2.c checkpoint + tokenizer.bin, or a BERT model directory (format: docs/IMAGE.md).",
        discussion: """
            The same inputs always give the same bytes. The image is written to OUTPUT.partial, synced, \
            renamed to OUTPUT and made read-only; an existing OUTPUT is never overwritten.
            Make a publisher key with --new-signing-key KEYFILE --publisher NAME; it prints the line for \
            the devices' trusted-keys file.
            """)

    @Option(help: "Chat cartridge: a GGUF file of a Llama-family model (tensors keep their GGUF types).") var gguf: String?
    @Option(help: "llama2.c checkpoint (v0 fp32 or v2 Q8_0).") var checkpoint: String?
    @Option(
        help: "Embedding cartridge: a Hugging Face BERT model directory (config.json, model.safetensors, tokenizer.json or vocab.txt).")
    var bertModel: String?
    @Option(help: "llama2.c tokenizer.bin.") var tokenizer: String?
    @Option(name: .shortAndLong, help: "The image to write.") var output: String?
    @Option(help: "Matrix storage: as-checkpoint, fp32, or q8_0 (quantized at burn time).") var quantize: String = "as-checkpoint"
    @Option(help: "Preferred Q8_0 group size (the largest divisor of every row length up to this is used).") var groupSize: Int = 64
    @Option(help: "Model name for the manifest (default: the GGUF's general.name, or the checkpoint's file name).") var name: String?
    @Option(help: "Licence (SPDX identifier where possible; default: the GGUF's general.license).") var license: String?
    @Option(help: "Publisher name.") var publisher: String = "unspecified"
    @Option(help: "Creation time to record (nothing is recorded unless given, so burns stay reproducible).") var createdAt: String?
    @Option(help: "Sign with this Ed25519 private-key file (ed25519-private <hex seed> <name>).") var signWith: String?
    @Option(help: "Generate a new signing key into this file (mode 0600) and print its trusted-keys line.") var newSigningKey: String?

    func validate() throws {
        if newSigningKey != nil { return }
        let sources = [checkpoint != nil && tokenizer != nil, bertModel != nil, gguf != nil].filter { $0 }.count
        guard output != nil, sources == 1 else {
            throw ValidationError("burning needs --output and one of --gguf, --checkpoint with --tokenizer, or --bert-model")
        }
        guard ["as-checkpoint", "fp32", "q8_0"].contains(quantize) else {
            throw ValidationError("--quantize must be as-checkpoint, fp32 or q8_0")
        }
        guard groupSize >= 1 else { throw ValidationError("--group-size must be positive") }
    }

    func run() throws {
        if let newSigningKey {
            let key = ImageSigningKey(generatingWithName: publisher)
            try KeyFileWriter.writeSecret(key.fileText, to: newSigningKey)
            print(key.trustedKey.line)
            return
        }
        if let gguf, let output {
            guard quantize == "as-checkpoint" else { throw ValidationError("GGUF tensors keep their own types; --quantize does not apply") }
            let card = GGUFImage.Card(name: name, license: license, publisher: publisher, createdBy: "cartridge burn 0.1.0", createdAt: createdAt)
            let key = try signWith.map { path throws(ImageError) in try ImageSigningKey(contentsOf: path) }
            let digest = try GGUFImage.burn(ggufPath: gguf, card: card, signingKey: key, to: output)
            print("burned \(output)")
            print("digest  \(digest)")
            if let key { print("signed  by \(key.name) (\(key.trustedKey.line))") }
            return
        }
        let license = self.license ?? "unspecified"
        if let bertModel, let output {
            guard quantize != "q8_0" else { throw ValidationError("the BERT encoder reads fp32 tensors; --quantize q8_0 applies to llama2.c checkpoints") }
            let directoryName = bertModel.split(separator: "/").last.map(String.init) ?? "embedding-model"
            let card = LlamaImage.Card(
                name: name ?? directoryName, license: license, publisher: publisher, createdBy: "cartridge burn 0.1.0", createdAt: createdAt)
            let key = try signWith.map { path throws(ImageError) in try ImageSigningKey(contentsOf: path) }
            let digest = try BertImage.burn(modelDirectory: bertModel, card: card, signingKey: key, to: output)
            print("burned \(output)")
            print("digest  \(digest)")
            if let key { print("signed  by \(key.name) (\(key.trustedKey.line))") }
            return
        }
        guard let checkpoint, let tokenizer, let output else { return }
        let storage: LlamaImage.Storage =
            switch quantize {
            case "fp32": .float32
            case "q8_0": .q8_0(preferredGroupSize: groupSize)
            default: .asCheckpoint
            }
        let modelName = name ?? String(checkpoint.split(separator: "/").last ?? "model").replacingSuffix(".bin")
        let card = LlamaImage.Card(name: modelName, license: license, publisher: publisher, createdBy: "cartridge burn 0.1.0", createdAt: createdAt)
        let key = try signWith.map { path throws(ImageError) in try ImageSigningKey(contentsOf: path) }
        let digest = try LlamaImage.burn(
            checkpointPath: checkpoint, tokenizerPath: tokenizer, storage: storage, card: card, signingKey: key, to: output)
        print("burned \(output)")
        print("digest  \(digest)")
        if let key { print("signed  by \(key.name) (\(key.trustedKey.line))") }
    }
}

extension String {
    fileprivate func replacingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
