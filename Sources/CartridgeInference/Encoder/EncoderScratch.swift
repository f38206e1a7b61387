/// The activations of one `BertEncoder.embed` call: `[tokens, hidden]` matrices for the hidden
/// state, q, k, v, attention context and attention output, and `[tokens, intermediate]` for the FFN.
/// One allocation, freed when the call ends.
final class EncoderScratch {
    let hidden: UnsafeMutablePointer<Float>
    let query: UnsafeMutablePointer<Float>
    let key: UnsafeMutablePointer<Float>
    let value: UnsafeMutablePointer<Float>
    let context: UnsafeMutablePointer<Float>
    let attended: UnsafeMutablePointer<Float>
    let intermediate: UnsafeMutablePointer<Float>
    private let base: UnsafeMutablePointer<Float>

    init(tokens: Int, hidden size: Int, intermediate width: Int) {
        let matrix = tokens * size
        let count = matrix * 6 + tokens * width
        base = .allocate(capacity: count)
        base.initialize(repeating: 0, count: count)
        hidden = base
        query = base + matrix
        key = base + 2 * matrix
        value = base + 3 * matrix
        context = base + 4 * matrix
        attended = base + 5 * matrix
        intermediate = base + 6 * matrix
    }

    deinit { base.deallocate() }
}
