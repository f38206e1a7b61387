import CartridgeGGML
import CartridgeInference

/// Lays out and writes an image exactly as given (no consistency checks: `ImageBurner` does
/// those; tests use the writer directly to craft images that must be refused).
struct ImageWriter {
    var manifest: ImageManifest
    var tokenizer: [UInt8]
    var tensors: [ImageTensorInput]
    var sectionAlignment = ImageHeader.defaultSectionAlignment
    var tensorAlignment = ImageHeader.defaultTensorAlignment
    var signingKey: ImageSigningKey?

    /// The header and tensor table this writer will produce (offsets resolved).
    func layout() throws(ImageError) -> (header: ImageHeader, table: [ImageTensorInfo], manifestBytes: [UInt8], tableBytes: [UInt8]) {
        func align(_ value: Int, _ alignment: Int) throws(ImageError) -> Int {
            guard let aligned = Alignment.up(value, to: alignment) else { throw ImageError(.invalidInput, "image size overflows") }
            return aligned
        }
        let manifestBytes = manifest.encoded()
        var header = ImageHeader()
        header.sectionAlignment = sectionAlignment
        header.tensorAlignment = tensorAlignment
        let manifestStart = try align(ImageHeader.length, sectionAlignment)
        header.manifest = manifestStart..<(manifestStart + manifestBytes.count)
        var table: [ImageTensorInfo] = []
        for tensor in tensors {
            let count = tensor.shape.reduce(1, *)
            guard let length = tensor.storedAs.byteCount(elementCount: count) else {
                throw ImageError(.invalidInput, "tensor '\(tensor.name)' is too large")
            }
            table.append(ImageTensorInfo(name: tensor.name, type: tensor.storedAs, shape: tensor.shape, offset: 0, length: length))
        }
        let tableLength = ImageTensorTable.encode(table).count
        let tableStart = try align(header.manifest.upperBound, sectionAlignment)
        header.tensorTable = tableStart..<(tableStart + tableLength)
        let tokenizerStart = try align(header.tensorTable.upperBound, sectionAlignment)
        header.tokenizer = tokenizerStart..<(tokenizerStart + tokenizer.count)
        let dataStart = try align(header.tokenizer.upperBound, sectionAlignment)
        var position = dataStart
        for index in table.indices {
            position = try align(position, tensorAlignment)
            table[index].offset = position
            position += table[index].length
        }
        header.data = dataStart..<position
        header.trailerOffset = try align(position, 64)
        header.fileLength = header.trailerOffset + ImageTrailer.length
        return (header, table, manifestBytes, ImageTensorTable.encode(table))
    }

    /// Writes the image and returns its digest.
    func write(to sink: inout some ImageSink) throws(ImageError) -> ImageDigest {
        let (header, table, manifestBytes, tableBytes) = try layout()
        var output = HashingOutput(sink: sink)
        try output.append(header.encoded())
        try output.pad(to: header.manifest.lowerBound)
        try output.append(manifestBytes)
        try output.pad(to: header.tensorTable.lowerBound)
        try output.append(tableBytes)
        try output.pad(to: header.tokenizer.lowerBound)
        try output.append(tokenizer)
        for (tensor, info) in zip(tensors, table) {
            try output.pad(to: info.offset)
            try Self.writeData(of: tensor, to: &output)
            precondition(output.position == info.offset + info.length, "tensor '\(info.name)' wrote a different length than laid out")
        }
        try output.pad(to: header.trailerOffset)
        let digest = output.hasher.finalize()
        let signature = try signingKey?.sign(digest: digest)
        try withRawBytes(ImageTrailer(digest: digest, signature: signature).encoded()) { (raw) throws(ImageError) in try output.sink.write(raw) }
        sink = output.sink
        return ImageDigest(bytes: digest)!
    }

    private static func writeData(of tensor: ImageTensorInput, to output: inout HashingOutput<some ImageSink>) throws(ImageError) {
        if case .ggml(let type, let blocks) = tensor.source {
            guard tensor.storedAs == .ggml(type), blocks.count == tensor.storedAs.byteCount(elementCount: tensor.shape.reduce(1, *)) else {
                throw ImageError(.invalidInput, "tensor '\(tensor.name)': \(type.name) blocks are stored as they are, \(blocks.count) bytes for \(tensor.shape)")
            }
            try output.append(blocks)
            return
        }
        switch (tensor.source, tensor.storedAs.isQ8_0) {
        case (.ggml, _): return
        case (.float32(let values), false):
            try output.append(UnsafeRawBufferPointer(values))
        case (.float16(let values), false):
            try output.append(UnsafeRawBufferPointer(values))
        case (.float32(let values), true):
            let quants: [Int8], scales: [Float]
            do {
                (quants, scales) = try Q8Quantizer.quantize(values, rowLength: tensor.shape[tensor.shape.count - 1], groupSize: tensor.storedAs.groupSize)
            } catch {
                throw ImageError(.invalidInput, "tensor '\(tensor.name)': \(error.message)", cause: error)
            }
            try withRawBytes(quants) { (raw) throws(ImageError) in try output.append(raw) }
            try output.pad(to: output.position + (ImageTensorType.q8_0ScalesOffset(elementCount: quants.count) - quants.count))
            try withRawBytes(scales) { (raw) throws(ImageError) in try output.append(raw) }
        case (.q8_0(let quants, let scales, _), true):
            try output.append(UnsafeRawBufferPointer(quants))
            try output.pad(to: output.position + (ImageTensorType.q8_0ScalesOffset(elementCount: quants.count) - quants.count))
            try output.append(scales)
        case (.q8_0, false):
            throw ImageError(.invalidInput, "tensor '\(tensor.name)': Q8_0 input can only be stored as Q8_0")
        case (.float16, true):
            throw ImageError(.invalidInput, "tensor '\(tensor.name)': fp16 input cannot be quantized at burn time")
        }
    }
}

/// Appends to a sink, hashing everything (the trailer is written to the sink directly).
struct HashingOutput<Sink: ImageSink> {
    var sink: Sink
    var hasher = ContentHasher()
    var position = 0
    private static var zeros: [UInt8] { [UInt8](repeating: 0, count: 4096) }

    init(sink: Sink) { self.sink = sink }

    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        hasher.update(bytes)
        try sink.write(bytes)
        position += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) throws(ImageError) {
        try withRawBytes(bytes) { (raw) throws(ImageError) in try append(raw) }
    }

    /// Zero bytes up to `offset`.
    mutating func pad(to offset: Int) throws(ImageError) {
        precondition(offset >= position, "layout went backwards")
        let zeros = Self.zeros
        while position < offset {
            let count = min(zeros.count, offset - position)
            try withRawBytes(zeros) { (raw) throws(ImageError) in try append(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }
    }
}
