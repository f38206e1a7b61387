public import CartridgeInference

/// An image that passed every check (`CartridgeImage.open`): mapped read-only, digest verified,
/// signature verified when present, manifest and tensor table consistent. Tensors and the
/// tokenizer are views into the mapping; nothing is copied.
///
/// `@unchecked Sendable`: every stored property is immutable, and the mapping it owns is
/// read-only (PROT_READ) and unmapped only when the last reference goes away.
public final class VerifiedImage: FileBackedMapping, @unchecked Sendable {
    public let path: String
    public let manifest: ImageManifest
    public let digest: ImageDigest
    /// The publisher signature, when the image carries one (always verified).
    public let signature: ImageSignature?
    /// The trusted key that made the signature, when trusted keys were configured.
    public let signer: TrustedKeys.Key?
    /// Every tensor, in table order.
    public let tensors: [ImageTensorInfo]
    public let header: ImageHeader
    /// How long hashing the content took during `open`.
    public let hashingDuration: Duration
    private let mapping: ImageMapping
    private let index: [String: Int]

    init(mapping: ImageMapping, result: ImageVerifier.Result) {
        self.mapping = mapping
        path = mapping.path
        manifest = result.manifest
        digest = result.digest
        signature = result.signature
        signer = result.signer
        tensors = result.tensors
        header = result.header
        hashingDuration = result.hashingDuration
        var index: [String: Int] = [:]
        for (position, tensor) in result.tensors.enumerated() { index[tensor.name] = position }
        self.index = index
    }

    /// The whole mapped file (read-only).
    public var fileBytes: UnsafeRawBufferPointer { mapping.bytes }
    public var mappedBytes: UnsafeRawBufferPointer { mapping.bytes }

    /// Bytes hashed by `open` (everything before the trailer).
    public var hashedByteCount: Int { header.trailerOffset }

    /// The tokenizer section (read-only view into the mapping).
    public var tokenizerBlob: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[header.tokenizer])
    }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> ImageTensor? {
        guard let position = index[name] else { return nil }
        let info = tensors[position]
        return ImageTensor(info: info, bytes: UnsafeRawBufferPointer(rebasing: mapping.bytes[info.offset..<(info.offset + info.length)]), owner: self)
    }
}
