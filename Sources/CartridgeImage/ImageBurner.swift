import CartridgeGGML
#if canImport(Glibc)
import Glibc
#endif
import CartridgeSystem

/// Burns an image from a manifest, a tokenizer blob and named tensors. Generic: the llama2.c and
/// safetensors paths are thin adapters that build these inputs. Deterministic: the same inputs
/// give the same bytes (no clock, no randomness; Ed25519 signing is deterministic).
///
/// The burner fills in `parameterCount` and `quantization` from the tensors, so the manifest it
/// writes always agrees with them.
public struct ImageBurner {
    public var manifest: ImageManifest
    public var tokenizer: [UInt8]
    public var tensors: [ImageTensorInput]
    public var signingKey: ImageSigningKey?
    /// Alignment of every section start (default 4096, one page).
    public var sectionAlignment = ImageHeader.defaultSectionAlignment
    /// Alignment of every tensor start (default 64, one cache line / AVX-512 register).
    public var tensorAlignment = ImageHeader.defaultTensorAlignment

    public init(manifest: ImageManifest, tokenizer: [UInt8], tensors: [ImageTensorInput], signingKey: ImageSigningKey? = nil) {
        self.manifest = manifest
        self.tokenizer = tokenizer
        self.tensors = tensors
        self.signingKey = signingKey
    }

    /// The manifest as it will be written (parameter count and quantization computed).
    public func resolvedManifest() throws(ImageError) -> ImageManifest {
        try validateTensors()
        var manifest = manifest
        let infos = tensors.map { ImageTensorInfo(name: $0.name, type: $0.storedAs, shape: $0.shape, offset: 0, length: 0) }
        manifest.parameterCount = infos.reduce(0) { $0 + $1.elementCount }
        manifest.quantization = ImageVerifier.quantizationDescriptor(infos)
        if tokenizer.isEmpty { manifest.tokenizerKind = "none" }
        try manifest.validate()
        guard manifest.tokenizerKind != "none" || tokenizer.isEmpty else {
            throw ImageError(.invalidInput, "tokenizer kind is 'none' but a tokenizer blob is given")
        }
        return manifest
    }

    private func writer() throws(ImageError) -> ImageWriter {
        guard Alignment.isPowerOfTwo(sectionAlignment), sectionAlignment >= 64, sectionAlignment <= ImageHeader.maximumAlignment,
            Alignment.isPowerOfTwo(tensorAlignment), tensorAlignment >= 64, tensorAlignment <= sectionAlignment
        else {
            throw ImageError(.invalidInput, "alignments must be powers of two with 64 <= tensor <= section <= \(ImageHeader.maximumAlignment)")
        }
        return ImageWriter(
            manifest: try resolvedManifest(), tokenizer: tokenizer, tensors: tensors, sectionAlignment: sectionAlignment,
            tensorAlignment: tensorAlignment, signingKey: signingKey)
    }

    /// The whole image in memory (small images, tests).
    public func imageBytes() throws(ImageError) -> [UInt8] {
        var sink = MemoryImageSink()
        _ = try writer().write(to: &sink)
        return sink.bytes
    }

    /// Writes the image to `path` (which must not exist) via `path.partial` and a rename, so a
    /// crash never leaves a half-written image under the final name. The file is made read-only.
    @discardableResult
    public func burn(to path: String) throws(ImageError) -> ImageDigest {
        let writer = try writer()
        guard access(path, F_OK) != 0 else { throw ImageError(.writeFailed, "'\(path)' exists; an image is never overwritten") }
        let partial = path + ".partial"
        unlink(partial)
        var sink = try FileImageSink(creating: partial)
        do throws(ImageError) {
            let digest = try writer.write(to: &sink)
            try sink.finish()
            guard rename(partial, path) == 0 else {
                throw ImageError(.writeFailed, "cannot rename '\(partial)' to '\(path)'", cause: SystemCallError.current("rename"))
            }
            return digest
        } catch {
            unlink(partial)
            throw error
        }
    }

    private func validateTensors() throws(ImageError) {
        var names = Set<String>()
        for tensor in tensors {
            func fail(_ message: String) -> ImageError { ImageError(.invalidInput, "tensor '\(tensor.name)': \(message)") }
            let nameBytes = Array(tensor.name.utf8)
            guard !nameBytes.isEmpty, nameBytes.count <= ImageTensorTable.maximumNameLength, nameBytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F })
            else { throw fail("name must be 1...\(ImageTensorTable.maximumNameLength) bytes of printable UTF-8") }
            guard names.insert(tensor.name).inserted else { throw fail("name appears twice") }
            guard (1...ImageTensorTable.maximumRank).contains(tensor.shape.count), tensor.shape.allSatisfy({ $0 >= 1 && $0 <= ImageTensorTable.maximumElements })
            else { throw fail("shape \(tensor.shape) must have rank 1...\(ImageTensorTable.maximumRank) and positive dimensions") }
            var count = 1
            for dimension in tensor.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= ImageTensorTable.maximumElements else { throw fail("too many elements") }
                count = product
            }
            let rowLength = tensor.shape[tensor.shape.count - 1]
            if tensor.storedAs.isQ8_0 {
                guard tensor.storedAs.groupSize >= 1, rowLength % tensor.storedAs.groupSize == 0 else {
                    throw fail("Q8_0 group size \(tensor.storedAs.groupSize) does not divide the row length \(rowLength)")
                }
            }
            switch tensor.source {
            case .float32(let values):
                guard values.count == count else { throw fail("\(values.count) fp32 values for shape \(tensor.shape) (\(count))") }
                guard tensor.storedAs == .float32 || tensor.storedAs.isQ8_0 else { throw fail("fp32 input cannot be stored as \(tensor.storedAs)") }
            case .float16(let values):
                guard values.count == count else { throw fail("\(values.count) fp16 values for shape \(tensor.shape) (\(count))") }
                guard tensor.storedAs == .float16 else { throw fail("fp16 input can only be stored as fp16") }
            case .q8_0(let quants, let scales, let groupSize):
                guard tensor.storedAs == .q8_0(groupSize: groupSize) else { throw fail("Q8_0/\(groupSize) input must be stored as q8_0/\(groupSize)") }
                guard quants.count == count, scales.count == count / groupSize * 4 else {
                    throw fail("\(quants.count) quants and \(scales.count / 4) scales for shape \(tensor.shape) with group size \(groupSize)")
                }
            case .ggml(let type, let blocks):
                guard tensor.storedAs == .ggml(type) else { throw fail("\(type.name) blocks must be stored as \(ImageTensorType.ggml(type))") }
                guard type.isSupported, let rowBytes = type.rowByteCount(elements: rowLength) else {
                    throw fail("\(type.name) is not a supported ggml type, or the row length \(rowLength) is not a whole number of its blocks")
                }
                guard blocks.count == (count / rowLength) * rowBytes else {
                    throw fail("\(blocks.count) bytes of \(type.name) blocks for shape \(tensor.shape) (\((count / rowLength) * rowBytes) expected)")
                }
            }
        }
    }
}
