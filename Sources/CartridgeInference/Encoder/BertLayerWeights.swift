/// One encoder block's fp32 weights (PyTorch `Linear` layout `[outputs, inputs]`).
struct BertLayerWeights: @unchecked Sendable {
    // @unchecked: pointers into immutable weight memory kept alive by `BertEncoder.owners`.
    var query: UnsafePointer<Float>, queryBias: UnsafePointer<Float>
    var key: UnsafePointer<Float>, keyBias: UnsafePointer<Float>
    var value: UnsafePointer<Float>, valueBias: UnsafePointer<Float>
    var attentionOutput: UnsafePointer<Float>, attentionOutputBias: UnsafePointer<Float>
    var attentionNormWeight: UnsafePointer<Float>, attentionNormBias: UnsafePointer<Float>
    var intermediate: UnsafePointer<Float>, intermediateBias: UnsafePointer<Float>
    var output: UnsafePointer<Float>, outputBias: UnsafePointer<Float>
    var outputNormWeight: UnsafePointer<Float>, outputNormBias: UnsafePointer<Float>
}
