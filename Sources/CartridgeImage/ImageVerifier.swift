import CartridgeGGML
/// The whole-image check, over bytes in memory (a mapping or an array): structure, digest,
/// signature, manifest, tensor table, and their agreement. Pure; never reads outside `bytes`.
enum ImageVerifier {
    struct Result: Sendable {
        var header: ImageHeader
        var manifest: ImageManifest
        var tensors: [ImageTensorInfo]
        var digest: ImageDigest
        var signature: ImageSignature?
        var signer: TrustedKeys.Key?
        var hashingDuration: Duration
    }

    static func verify(_ bytes: UnsafeRawBufferPointer, trustedKeys: TrustedKeys?) throws(ImageError) -> Result {
        let header = try ImageHeader.parse(bytes)
        let reader = LittleEndianBytes(bytes)
        let trailer = try ImageTrailer.parse(reader.slice(offset: header.trailerOffset, length: ImageTrailer.length)!)

        let clock = ContinuousClock()
        let start = clock.now
        let computed = ImageCrypto.sha256(reader.slice(offset: 0, length: header.trailerOffset)!)
        let hashingDuration = clock.now - start
        guard computed == trailer.digest else {
            throw ImageError(
                .digestMismatch,
                "content digest mismatch: the image is corrupted or was altered (stored sha256:\(hexString(trailer.digest)), computed sha256:\(hexString(computed)))")
        }
        let digest = ImageDigest(bytes: computed)!

        var signer: TrustedKeys.Key? = nil
        if let signature = trailer.signature {
            guard ImageCrypto.isValid(signature, digest: computed) else {
                throw ImageError(.signatureInvalid, "the publisher signature does not verify for key \(signature.publicKeyHex)")
            }
            if let trustedKeys {
                guard let key = trustedKeys.key(matching: signature.publicKey) else {
                    throw ImageError(
                        .untrustedSigner, "the image is signed by key \(signature.publicKeyHex), which is not in the trusted keys")
                }
                signer = key
            }
        } else if trustedKeys != nil {
            throw ImageError(.unsignedImage, "trusted keys are configured but the image is not signed")
        }

        let manifest = try ImageManifest.parse(reader.slice(offset: header.manifest.lowerBound, length: header.manifest.count)!)
        let tensors = try ImageTensorTable.parse(
            reader.slice(offset: header.tensorTable.lowerBound, length: header.tensorTable.count)!,
            data: header.data, tensorAlignment: header.tensorAlignment)
        try checkAgreement(manifest: manifest, tensors: tensors, tokenizerLength: header.tokenizer.count)
        return Result(
            header: header, manifest: manifest, tensors: tensors, digest: digest, signature: trailer.signature, signer: signer,
            hashingDuration: hashingDuration)
    }

    static func checkAgreement(manifest: ImageManifest, tensors: [ImageTensorInfo], tokenizerLength: Int) throws(ImageError) {
        let parameters = tensors.reduce(0) { $0 + $1.elementCount }
        guard manifest.parameterCount == parameters else {
            throw ImageError(
                .manifestMismatch,
                "manifest says \(manifest.parameterCount) parameters but the \(tensors.count) tensors hold \(parameters) elements")
        }
        let quantization = quantizationDescriptor(tensors)
        guard manifest.quantization == quantization else {
            throw ImageError(.manifestMismatch, "manifest says quantization '\(manifest.quantization)' but the tensors are '\(quantization)'")
        }
        guard (manifest.tokenizerKind == "none") == (tokenizerLength == 0) else {
            throw ImageError(
                .manifestMismatch, "manifest says tokenizer '\(manifest.tokenizerKind)' but the tokenizer section is \(tokenizerLength) bytes")
        }
    }

    /// "fp32"/"fp16" when every tensor has that type; "q8_0/G" when every matrix is Q8_0 with
    /// group size G and every vector fp32; "none" without tensors; "mixed" otherwise.
    static func quantizationDescriptor(_ tensors: [ImageTensorInfo]) -> String {
        guard let first = tensors.first else { return "none" }
        // GGUF models: "ggml:" and the matrices' types, most common first ("ggml:q4_1+q8_0"; fp32
        // matrices count as "f32").
        if tensors.contains(where: { $0.type.ggmlType != nil }), tensors.allSatisfy({ $0.type.ggmlType != nil || $0.type == .float32 }) {
            var counts: [String: Int] = [:]
            for tensor in tensors where tensor.shape.count >= 2 {
                counts[tensor.type.ggmlType?.name.lowercased() ?? "f32", default: 0] += 1
            }
            return "ggml:" + counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map(\.key).joined(separator: "+")
        }
        if tensors.allSatisfy({ $0.type == first.type }), !first.type.isQ8_0 { return first.type.description }
        let groups = Set(tensors.filter { $0.type.isQ8_0 }.map(\.type.groupSize))
        if groups.count == 1, tensors.allSatisfy({ $0.type.isQ8_0 || ($0.type == .float32 && $0.shape.count == 1) }) {
            return "q8_0/\(groups.first!)"
        }
        return "mixed"
    }
}
