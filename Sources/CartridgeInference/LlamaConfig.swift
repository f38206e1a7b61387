/// The shape of a Llama-family decoder, as in llama2.c's `Config`.
public struct LlamaConfig: Hashable, Sendable, CustomStringConvertible {
    /// Model (embedding) width.
    public var dim: Int
    /// Width of the SwiGLU feed-forward layer.
    public var hiddenDim: Int
    public var layers: Int
    /// Query heads.
    public var heads: Int
    /// Key/value heads (grouped-query attention when < heads).
    public var kvHeads: Int
    public var vocab: Int
    /// Maximum context length (positions).
    public var seqLen: Int
    /// The classifier reuses the token embedding table (no `output` tensor).
    public var sharedClassifier: Bool
    /// RoPE base frequency (theta): pair j of a head rotates by pos * base^(-2j / ropeDimensions).
    public var ropeBase: Float
    /// Leading dimensions of each head that RoPE rotates, in adjacent pairs (GGUF's
    /// `rope.dimension_count`); the rest pass through. Defaults to the head size.
    public var ropeDimensions: Int
    /// RMSNorm epsilon.
    public var rmsEpsilon: Float
    /// The KV cache's element type (fp32 unless set: GGUF models default to q16).
    public var kvCacheType = KVCacheType.f32

    public init(
        dim: Int, hiddenDim: Int, layers: Int, heads: Int, kvHeads: Int, vocab: Int, seqLen: Int,
        sharedClassifier: Bool = true, ropeBase: Float = 10000, ropeDimensions: Int? = nil, rmsEpsilon: Float = 1e-5
    ) {
        self.ropeBase = ropeBase
        self.ropeDimensions = ropeDimensions ?? (heads > 0 ? dim / heads : 0)
        self.rmsEpsilon = rmsEpsilon
        self.dim = dim
        self.hiddenDim = hiddenDim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocab = vocab
        self.seqLen = seqLen
        self.sharedClassifier = sharedClassifier
    }

    public var headSize: Int { dim / heads }
    /// Bytes of one position's keys (or values) in one layer of the KV cache.
    public var kvCacheRowBytes: Int { kvCacheType.rowBytes(kvDim: kvDim) }
    /// Width of one position's keys (and values): kvHeads * headSize.
    public var kvDim: Int { dim * kvHeads / heads }

    /// The stories15M / 42M / 110M shapes (Llama 2 vocabulary).
    public static let stories15M = LlamaConfig(dim: 288, hiddenDim: 768, layers: 6, heads: 6, kvHeads: 6, vocab: 32000, seqLen: 256)
    public static let stories42M = LlamaConfig(dim: 512, hiddenDim: 1376, layers: 8, heads: 8, kvHeads: 8, vocab: 32000, seqLen: 1024)
    public static let stories110M = LlamaConfig(dim: 768, hiddenDim: 2048, layers: 12, heads: 12, kvHeads: 12, vocab: 32000, seqLen: 1024)

    /// Upper bound on any dimension: keeps size arithmetic far from overflow.
    static let maximumDimension = 1 << 20

    /// Throws unless every dimension is positive, bounded and consistent.
    public func validate() throws(InferenceError) {
        let named = [("dim", dim), ("hiddenDim", hiddenDim), ("layers", layers), ("heads", heads),
                     ("kvHeads", kvHeads), ("vocab", vocab), ("seqLen", seqLen)]
        for (name, value) in named where value <= 0 || value > Self.maximumDimension {
            throw InferenceError(.invalidConfiguration, "\(name) = \(value) is out of range 1...\(Self.maximumDimension)")
        }
        guard dim % heads == 0 else {
            throw InferenceError(.invalidConfiguration, "dim \(dim) is not a multiple of heads \(heads)")
        }
        guard kvHeads <= heads, heads % kvHeads == 0 else {
            throw InferenceError(.invalidConfiguration, "heads \(heads) is not a multiple of kvHeads \(kvHeads)")
        }
        guard headSize % 2 == 0 else {
            throw InferenceError(.invalidConfiguration, "head size \(headSize) is odd (RoPE rotates pairs)")
        }
        guard ropeDimensions > 0, ropeDimensions <= headSize, ropeDimensions % 2 == 0 else {
            throw InferenceError(.invalidConfiguration, "RoPE dimension count \(ropeDimensions) is not an even number in 2...\(headSize)")
        }
        if kvCacheType == .q16, headSize % 32 != 0 {
            throw InferenceError(.invalidConfiguration, "a q16 KV cache needs a head size that is a multiple of 32 (this model's is \(headSize)): use f32 or f16")
        }
        guard ropeBase.isFinite, ropeBase > 1 else {
            throw InferenceError(.invalidConfiguration, "RoPE base \(ropeBase) is not a finite number above 1")
        }
        guard rmsEpsilon.isFinite, rmsEpsilon > 0, rmsEpsilon < 1 else {
            throw InferenceError(.invalidConfiguration, "RMSNorm epsilon \(rmsEpsilon) is not in (0, 1)")
        }
    }

    public var description: String {
        "dim \(dim), hidden \(hiddenDim), \(layers) layers, \(heads) heads, \(kvHeads) kv heads, vocab \(vocab), seq \(seqLen)"
            + (sharedClassifier ? ", shared classifier" : ", separate classifier")
            + (ropeBase != 10000 || ropeDimensions != headSize ? ", rope base \(ropeBase) over \(ropeDimensions) dims" : "")
            + (rmsEpsilon != 1e-5 ? ", rms eps \(rmsEpsilon)" : "")
    }
}
