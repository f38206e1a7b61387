import CartridgeDaemon
import CartridgeWire
#if canImport(Glibc)
import Glibc
#endif

/// A deterministic stand-in for a real model, so the VM can exercise the daemon core over USB
/// while `cartridged` cannot load a checkpoint: the next token is a fixed function of the
/// previous one (temperature and seed are ignored), each step takes `stepMicroseconds`, and
/// the text of token n is "t<n> ". Its embeddings are pseudo-random unit vectors of
/// `embeddingDimension` floats seeded by the sentence (computed in microseconds, so an EMBED's
/// time is the protocol's and the transport's).
final class StandInModel: ServedModel {
    static let vocabulary: UInt32 = 512
    /// all-MiniLM-L6-v2's dimension, so an EMBED answer is as large as the real model's.
    static let embeddingDimension = 384
    let stepMicroseconds: UInt32

    init(stepMicroseconds: UInt32) { self.stepMicroseconds = stepMicroseconds }

    var card: ModelCard {
        ModelCard(
            name: "stand-in", family: "test", architecture: "next = (previous * 31 + 7) mod 512", parameterCount: 0,
            quantization: "none", contextLength: 1 << 20, vocabularySize: Self.vocabulary, tokenizer: "t<n>",
            imageDigest: [0x5e, 0x1f, 0x7e, 0x57, 0xc0, 0xde] + [UInt8](repeating: 0, count: 26), licence: "CC0",
            publisher: "cartridge-usb-selftest", embeddingDimension: UInt32(Self.embeddingDimension))
    }

    var capabilities: Capabilities { [.generate, .tokenize, .embed] }

    func tokenize(_ text: String, options: TokenizeRequest.Options) throws(ModelError) -> [UInt32] {
        [1] + text.utf8.map { UInt32($0) }
    }

    func detokenize(_ tokens: [UInt32]) throws(ModelError) -> String { tokens.map { "t\($0) " }.joined() }

    func makeGenerationContext() throws(ModelError) -> any GenerationContext { StandInContext(model: self) }

    func embed(_ sentences: [String]) throws(ModelError) -> [[Float]] {
        sentences.map { sentence in
            var state: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the sentence seeds the vector
            for byte in sentence.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
            var vector = (0..<Self.embeddingDimension).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for index in vector.indices { vector[index] /= norm } }
            return vector
        }
    }

    func setWorkerCount(_ count: Int) {}
}

final class StandInContext: GenerationContext, @unchecked Sendable {
    // @unchecked: used by one request at a time (protocol contract).
    private let model: StandInModel
    private var previous: UInt32 = 1
    private var remaining: UInt32 = 0
    private var promptTokens = 0

    init(model: StandInModel) { self.model = model }

    func prepare(_ request: GenerationSpec) throws(ModelError) {
        let tokens: [UInt32] =
            switch request.prompt {
            case .tokens(let tokens): tokens
            case .text(let text): try model.tokenize(text, options: [])
            }
        previous = tokens.last ?? 1
        remaining = request.maximumTokens
        promptTokens = tokens.count
    }

    func start(isCancelled: @escaping @Sendable () -> Bool) async throws(ModelError) -> PromptAccounting {
        PromptAccounting(promptTokens: promptTokens, cachedTokens: 0)
    }

    func next() async throws(ModelError) -> GenerationStep {
        guard remaining > 0 else { return .finished(.maximumTokens, trailingText: "") }
        remaining -= 1
        if model.stepMicroseconds > 0 { try? await Task.sleep(for: .microseconds(Int(model.stepMicroseconds))) }
        previous = (previous &* 31 &+ 7) % StandInModel.vocabulary
        return .token(id: previous, text: "t\(previous) ", logprobs: nil)
    }

    func end() {}
}
