import CartridgeGGML

extension LlamaWeights {
    /// `view` with its interleaved copy (`InterleavedMatrix`) when the interleaved kernels run in
    /// this process and take its type and shape; else `view` as it is. When `owner` maps a file,
    /// the ggml rows' pages are dropped right away, so the load never holds both copies whole.
    static func repacked(_ view: TensorView, owner: (any AnyObject & Sendable)?) -> TensorView {
        guard InterleavedMatrix.isAvailable, view.interleaved == nil, view.shape.count == 2, case .ggml(let type, let blocks) = view.storage,
            let matrix = InterleavedMatrix(type: type, rows: view.rowCount, count: view.columnCount, source: blocks)
        else { return view }
        var copy = view
        copy.interleaved = matrix
        if let mapping = owner as? any FileBackedMapping {
            mapping.dropPages(in: UnsafeRawBufferPointer(start: blocks, count: view.byteCount))
        }
        return copy
    }

    /// When `owner` maps a file, drops the pages of every matrix that has an interleaved copy
    /// once more after all are repacked (nothing reads the ggml rows then: products and
    /// embedding lookups use the copy): a page fault while repacking a later matrix may map a
    /// whole large folio of the page cache, including pages of matrices already dropped.
    func dropRepackedPages() {
        guard let mapping = owner as? any FileBackedMapping else { return }
        var matrices = [tokenEmbeddings, classifier]
        for layer in layers { matrices += [layer.wq, layer.wk, layer.wv, layer.wo, layer.w1, layer.w2, layer.w3] }
        for matrix in matrices where matrix.interleaved != nil {
            if case .ggml(_, let blocks) = matrix.storage {
                mapping.dropPages(in: UnsafeRawBufferPointer(start: blocks, count: matrix.byteCount))
            }
        }
    }
}
