import CartridgeGGML

extension LlamaWeights {
    /// `view` with its interleaved copy (`InterleavedMatrix`) when the interleaved kernels run in
    /// this process and take its type and shape; else `view` as it is. When `owner` maps a file,
    /// the ggml rows' pages are dropped right away, so the load never holds both copies whole.
    static func repacked(_ view: TensorView, owner: (any AnyObject & Sendable)?, arena: InterleavedArena?) -> TensorView {
        guard InterleavedMatrix.isAvailable, view.interleaved == nil, view.shape.count == 2, case .ggml(let type, let blocks) = view.storage,
            let matrix = InterleavedMatrix(type: type, rows: view.rowCount, count: view.columnCount, source: blocks, arena: arena)
        else { return view }
        var copy = view
        copy.interleaved = matrix
        if let mapping = owner as? any FileBackedMapping {
            mapping.dropPages(in: UnsafeRawBufferPointer(start: blocks, count: view.byteCount))
        }
        return copy
    }

    /// One arena for every matrix of `tensors` (the names of `tensorLayout(for: config)`) that
    /// will be repacked, or nil when none will.
    static func arena(for config: LlamaConfig, tensors: [String: TensorView]) -> InterleavedArena? {
        guard InterleavedMatrix.isAvailable else { return nil }
        var total = 0
        for (name, shape) in tensorLayout(for: config) where shape.count == 2 {
            guard let view = tensors[name], case .ggml(let type, _) = view.storage,
                let bytes = InterleavedMatrix.repackedByteCount(type: type, rows: view.rowCount, count: view.columnCount)
            else { continue }
            total += InterleavedArena.footprint(of: bytes)
        }
        return InterleavedArena(byteCount: total)
    }

    /// Whether the weights give the pages of a file mapping back after loading: when `owner` maps
    /// a file and the matrices are repacked (`InterleavedMatrix.isAvailable`). The norms are
    /// then copied (`TensorCopies`).
    static func givesBackMappedPages(owner: (any AnyObject & Sendable)?) -> Bool {
        InterleavedMatrix.isAvailable && owner is any FileBackedMapping
    }

    /// After loading, when `givesBackMappedPages`: if every matrix has an interleaved copy (so
    /// nothing reads the mapping at run time: products and embedding lookups use the copies, the
    /// norms are copied), drops the whole mapping's pages, metadata and partial pages included
    /// (a page read again later simply faults back in from the file); else drops each repacked
    /// matrix's pages once more (a fault while repacking a later matrix may have mapped some
    /// back).
    func giveBackMappedPages() {
        guard Self.givesBackMappedPages(owner: owner), let mapping = owner as? any FileBackedMapping else { return }
        let matrices = tensors.map(\.tensor).filter { $0.shape.count == 2 }
        if matrices.allSatisfy({ $0.interleaved != nil }) {
            mapping.dropPages(in: mapping.mappedBytes)
            return
        }
        for matrix in matrices where matrix.interleaved != nil {
            if case .ggml(_, let blocks) = matrix.storage {
                mapping.dropPages(in: UnsafeRawBufferPointer(start: blocks, count: matrix.byteCount))
            }
        }
    }
}
