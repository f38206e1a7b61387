/// One position of a decoding batch: token `token` of the sequence whose cache is `cache`, at
/// `position` (its keys and values are written there). Rows of one batch may belong to one
/// sequence (consecutive positions of a prefill chunk) or to several (a continuous-batching
/// step); a row sees the cache positions 0...position of its own sequence, including rows of the
/// same batch before it.
///
/// `@unchecked Sendable`: the cache and the logits buffer belong to a session that is part of
/// the batch; the step loop hands rows from the sessions' locks to the decoder and back, and
/// nothing else touches those buffers meanwhile.
struct DecoderRow: @unchecked Sendable {
    unowned(unsafe) let cache: KVCache
    let token: Int32
    let position: Int
    /// Where to write this position's logits (vocab floats), or nil if none are wanted.
    let logits: UnsafeMutablePointer<Float>?
}
