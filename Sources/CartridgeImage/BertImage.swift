/// The embedding-cartridge adapter: burns a BERT-style `.safetensors` model plus its `vocab.txt`.
/// Thin by design: every tensor is copied under its safetensors name (sorted by name), F32 as
/// fp32, F16 as fp16, BF16 widened to fp32; the encoder's hyperparameters come from the caller.
public enum BertImage {
    public static let family = "bert"
    public static let architecture = "bert-encoder"
    public static let tokenizerKind = "wordpiece-vocab"

    @discardableResult
    public static func burn(
        safetensorsPath: String, vocabularyPath: String, hyperparameters: [String: Int], contextLength: Int,
        card: LlamaImage.Card, signingKey: ImageSigningKey?, to outputPath: String
    ) throws(ImageError) -> ImageDigest {
        let file = try SafetensorsFile(path: safetensorsPath)
        let vocabulary = try readSmallFile(vocabularyPath, limit: 64 << 20, what: "vocabulary")
        let lines = vocabulary.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let vocabularySize = lines.last?.isEmpty == true ? lines.count - 1 : lines.count
        var widened: [UnsafeMutableBufferPointer<Float>] = []  // BF16 tensors widened to fp32
        defer { for buffer in widened { buffer.deallocate() } }
        var inputs: [(SafetensorsFile.Tensor, Int?)] = []
        for tensor in file.tensors {
            if tensor.dtype == "BF16" {
                let raw = file.bytes(of: tensor)
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: raw.count / 2)
                for index in 0..<buffer.count {
                    buffer[index] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)) << 16)
                }
                widened.append(buffer)
                inputs.append((tensor, widened.count - 1))
            } else {
                inputs.append((tensor, nil))
            }
        }
        var extra = card.extra
        extra["source.safetensors.sha256"] = hexString(ImageCrypto.sha256(file.bytes(ofWholeFile: ())))
        extra["source.vocabulary.sha256"] = vocabulary.withUnsafeBytes { hexString(ImageCrypto.sha256($0)) }
        let manifest = ImageManifest(
            name: card.name, family: family, architecture: architecture, hyperparameters: hyperparameters,
            tokenizerKind: tokenizerKind, contextLength: contextLength, vocabularySize: vocabularySize, license: card.license,
            publisher: card.publisher, createdBy: card.createdBy, createdAt: card.createdAt, extra: extra)
        return try withExtendedLifetime(file) { () throws(ImageError) -> ImageDigest in
            var tensors: [ImageTensorInput] = []
            for (tensor, widenedIndex) in inputs {
                let raw = file.bytes(of: tensor)
                if let widenedIndex {
                    tensors.append(.float32(tensor.name, shape: tensor.shape, UnsafeBufferPointer(widened[widenedIndex])))
                } else if tensor.dtype == "F32" {
                    // The data may be only 1-aligned in the safetensors file; the writer copies the
                    // bytes (memcpy) and never loads through the typed pointer.
                    tensors.append(.float32(tensor.name, shape: tensor.shape, raw.assumingMemoryBound(to: Float.self)))
                } else {
                    tensors.append(ImageTensorInput(name: tensor.name, shape: tensor.shape, source: .float16(raw.assumingMemoryBound(to: UInt16.self)), storedAs: .float16))
                }
            }
            let burner = ImageBurner(manifest: manifest, tokenizer: vocabulary, tensors: tensors, signingKey: signingKey)
            return try burner.burn(to: outputPath)
        }
    }
}

extension SafetensorsFile {
    func bytes(ofWholeFile: Void) -> UnsafeRawBufferPointer { mappingBytes }
}
