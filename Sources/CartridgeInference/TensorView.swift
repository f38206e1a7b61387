public import CartridgeGGML

/// A read-only view of one weight tensor living in memory owned by someone else (a mapped
/// checkpoint or cartridge image). Shape is row-major, `[rows, columns]` for matrices, `[n]` for vectors.
///
/// `@unchecked Sendable`: the pointers refer to immutable memory (read-only mappings) that the
/// owner passed to `LlamaWeights` keeps alive; nothing ever writes through them.
public struct TensorView: @unchecked Sendable {
    public enum Storage {
        /// IEEE fp32 values, at least 4-byte aligned.
        case float32(UnsafePointer<Float>)
        /// Q8_0: `quants` holds one int8 per element (row-major); `scales` (fp32, any alignment)
        /// holds one scale per `groupSize` consecutive elements of a row: value = q * scale.
        /// `groupSize` divides the row length, so a group never straddles two rows.
        case q8_0(quants: UnsafePointer<Int8>, scales: UnsafeRawPointer, groupSize: Int)
        /// A ggml tensor type (GGUF files): each row is `type.rowByteCount(elements: columns)` bytes
        /// of ggml blocks, rows back to back, as in the GGUF data section.
        case ggml(GGMLType, blocks: UnsafeRawPointer)
    }

    public var storage: Storage
    public var shape: [Int]
    /// The matrix repacked for the interleaved kernels (`InterleavedMatrix`), when `LlamaWeights`
    /// made one: the products and the embedding lookups (`copyRow`) read it; `storage` still
    /// points at the file's rows (their pages may have been given back: read again, they fault
    /// back in from the file).
    public var interleaved: InterleavedMatrix?

    public init(_ storage: Storage, shape: [Int]) {
        self.storage = storage
        self.shape = shape
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes the tensor occupies (quants plus scales for Q8_0).
    public var byteCount: Int {
        switch storage {
        case .float32: elementCount * 4
        case .q8_0(_, _, let groupSize): elementCount + elementCount / groupSize * 4
        case .ggml(let type, _): rowCount * (type.rowByteCount(elements: columnCount) ?? 0)
        }
    }

    /// Rows of a matrix (1 for a vector).
    public var rowCount: Int { shape.count >= 2 ? shape.dropLast().reduce(1, *) : 1 }
    /// Elements per row (the innermost dimension).
    public var columnCount: Int { shape.last ?? 0 }

    public var elementTypeDescription: String {
        switch storage {
        case .float32: "fp32"
        case .q8_0(_, _, let groupSize): "q8_0/\(groupSize)"
        case .ggml(let type, _): type.name.lowercased()
        }
    }

    /// Element `index` (row-major) as fp32; dequantizes Q8_0.
    @inline(__always)
    func value(at index: Int) -> Float {
        switch storage {
        case .float32(let values): return values[index]
        case .q8_0(let quants, let scales, let groupSize):
            return Float(quants[index]) * scales.loadUnaligned(fromByteOffset: (index / groupSize) * 4, as: Float.self)
        case .ggml:
            var row = [Float](repeating: 0, count: columnCount)
            row.withUnsafeMutableBufferPointer { copyRow(index / columnCount, into: $0.baseAddress!) }
            return row[index % columnCount]
        }
    }

    /// Row `row` as fp32 (dequantized) into `out[0..<columnCount]`.
    func copyRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        if let interleaved {
            interleaved.dequantizeRow(row, into: out)
            return
        }
        let n = columnCount
        switch storage {
        case .float32(let values): out.update(from: values + row * n, count: n)
        case .q8_0(let quants, let scales, let groupSize):
            for j in 0..<n {
                out[j] = Float(quants[row * n + j]) * scales.loadUnaligned(fromByteOffset: ((row * n + j) / groupSize) * 4, as: Float.self)
            }
        case .ggml(let type, let blocks):
            let rowBytes = type.rowByteCount(elements: n) ?? 0
            GGMLKernels.dequantize(type, row: blocks + row * rowBytes, count: n, into: out)
        }
    }
}
