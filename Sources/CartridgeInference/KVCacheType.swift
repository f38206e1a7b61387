/// The element type of a decoder's KV cache (cartridged `--kv-cache-type`).
public enum KVCacheType: String, Sendable, CaseIterable {
    /// fp32: exact keys and values (llama2.c checkpoints always use it: run.c-identical tokens).
    case f32
    /// 16-bit integers in blocks of 32 with an fp32 scale each (`GGMLKernels.quantizeInt16Blocks`):
    /// 53 % of f32's memory, with a logit error close to f32's (the default for GGUF models whose
    /// head size is a multiple of 32).
    case q16
    /// fp16: half of f32's memory, as llama.cpp's default cache; 2-4x the logit error of f32 on
    /// SmolLM2 (docs/PERFORMANCE.md).
    case f16

    /// Bytes of one position's keys (or values) in one layer, `kvDim` wide.
    public func rowBytes(kvDim: Int) -> Int {
        switch self {
        case .f32: kvDim * 4
        case .f16: kvDim * 2
        case .q16: kvDim * 2 + kvDim / 32 * 4
        }
    }
}
