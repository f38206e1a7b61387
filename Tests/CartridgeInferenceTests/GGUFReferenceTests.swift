import CartridgeGGUF
import CartridgeInference
import CartridgeTestSupport
import Foundation
import Testing

/// The decoder on the real SmolLM2-135M-Instruct Q4_1 GGUF against a float64 numpy forward pass of
/// the same dequantized weights (scripts/reference/gguf-forward.py), teacher-forced: at every
/// prompt position the top-5 logits agree within `tolerance`, the argmax agrees wherever the
/// reference's top-1/top-2 margin exceeds 1.0, and the RMS error over all logits stays far below
/// llama.cpp's on the same prompts (docs/PERFORMANCE.md: RMS 0.2-0.3 with its 8-bit activations).
/// Every KV-cache type: q16 (the default for this model), fp32 and fp16, each within `rmsLimit`.
@Suite("SmolLM2 GGUF against a float64 reference", .serialized, .timeLimit(.minutes(10)))
struct GGUFReferenceTests {
    /// Largest |logit - reference| allowed among the reference's top 5 at each position.
    static let tolerance: Float = 0.05
    /// RMS error over every logit of every position (measured with fp32 and q16 caches
    /// 0.0012-0.0019, fp16 0.005-0.007: keys and values rounded to 2^-12 of themselves).
    static let rmsLimit = 0.01

    /// The chat prompt with the float64 model's own answer, an English sentence, code, digits.
    static let prompts: [(name: String, text: String)] = [
        ("chat", "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\nThe capital of France is Paris.<|im_end|>"),
        ("code", "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"),
        ("mixed", "On 14 July 1789, 633 Parisians stormed the Bastille; café crème costs €3.50 — 東京 🚀"),
    ]

    @Test func topLogitsArgmaxAndRMSMatchTheFloat64Reference() throws {
        guard DefaultChatModel.path != nil, DefaultChatModel.referenceAvailable else {
            print("skipping the float64 reference comparison: \(DefaultChatModel.skipReason)")
            return
        }
        let path = DefaultChatModel.path!
        let file = try MappedFile(path: path)
        let gguf = try GGUFFile(bytes: file.bytes)
        let description = try GGUFLlamaModel(file: gguf)
        #expect(description.config.kvCacheType == .q16, "SmolLM2's 64-wide heads take the q16 default")
        let models = try [KVCacheType.q16, .f32, .f16].map { (type: KVCacheType) in
            ("\(type.rawValue) KV", try description.withKVCache(type).makeModel(file: gguf, owner: file, maximumWorkers: 2))
        }
        let vocab = description.config.vocab
        let directory = try TemporaryDirectory("gguf-reference")
        for (promptName, text) in Self.prompts {
            let tokens = try models[0].1.promptTokens(for: text)
            #expect(tokens.count > 10)
            let reference = try DefaultChatModel.referenceLogits(tokens: tokens, directory: directory)
            #expect(reference.count == tokens.count * vocab, "\(promptName): reference shape")
            for (cacheName, model) in models {
                let name = "\(promptName), \(cacheName)"
                let ours = try model.makeSession().logitsOfEveryPosition(forPrompt: tokens)
                var squared: Double = 0
                var eligible = 0
                for position in tokens.indices {
                    let base = position * vocab
                    let ref = reference[base..<(base + vocab)]
                    let got = ours[base..<(base + vocab)]
                    let order = ref.indices.sorted { ref[$0] > ref[$1] }.prefix(5)
                    for index in order {
                        #expect(abs(got[index] - ref[index]) <= Self.tolerance, "\(name) position \(position): logit of \(index - base) is \(got[index]), reference \(ref[index])")
                    }
                    let margin = ref[order[order.startIndex]] - ref[order[order.startIndex + 1]]
                    if margin > 1 {
                        eligible += 1
                        let ourArgmax = got.indices.max { got[$0] < got[$1] }!
                        #expect(ourArgmax == order.first!, "\(name) position \(position): argmax \(ourArgmax - base), reference \(order.first! - base) (margin \(margin))")
                    }
                    for (a, b) in zip(got, ref) { squared += Double(a - b) * Double(a - b) }
                }
                let rms = (squared / Double(ours.count)).squareRoot()
                print("float64 reference, \(name): \(tokens.count) positions, RMS logit error \(rms), \(eligible) positions with margin > 1")
                #expect(rms < Self.rmsLimit, "\(name): RMS error \(rms)")
                #expect(eligible > 0)
            }
        }
    }
}
