import CartridgeTokenizers
import Foundation
import Glibc

/// The real SmolLM2 vocabulary (read from the GGUF file, never committed) and the reference ids
/// Hugging Face `tokenizers` gave for it (Fixtures/smollm2-bpe-reference.json, written by
/// scripts/reference/bpe-tokenizer-reference.py).
enum SmolLM2Reference {
    /// Where scripts/fetch-chat-model.sh caches it: $CARTRIDGE_CACHE, else $XDG_CACHE_HOME/cartridge, else ~/.cache/cartridge.
    static let modelPath: String = {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["CARTRIDGE_CACHE"]
            ?? (environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? "/root") + "/.cache")) + "/cartridge"
        return cache + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }()
    static let missingReason = "\(modelPath) not found (scripts/fetch-chat-model.sh downloads it; make test runs it first)"

    static let isAvailable: Bool = access(modelPath, R_OK) == 0

    static let metadata: GGUFTokenizerMetadata? = {
        guard isAvailable else {
            print("skipping SmolLM2 tokenizer tests: \(missingReason)")
            return nil
        }
        return try? GGUFTokenizerMetadata(path: modelPath)
    }()

    /// A tokenizer over the SmolLM2 vocabulary with the pre-tokenizer `preTokenizer` (the file's own is "smollm").
    static func tokenizer(preTokenizer: String? = nil) throws -> ByteLevelBPETokenizer {
        guard let metadata else { throw GGUFTokenizerMetadata.ReadError(description: "no GGUF metadata") }
        return try ByteLevelBPETokenizer(
            tokens: metadata.strings("tokenizer.ggml.tokens") ?? [],
            tokenTypes: metadata.integers("tokenizer.ggml.token_type"),
            merges: metadata.strings("tokenizer.ggml.merges") ?? [],
            preTokenizer: preTokenizer ?? metadata.string("tokenizer.ggml.pre") ?? "",
            bosID: metadata.id("tokenizer.ggml.bos_token_id"),
            eosID: metadata.id("tokenizer.ggml.eos_token_id"),
            eotID: metadata.id("tokenizer.ggml.eot_token_id"),
            unknownID: metadata.id("tokenizer.ggml.unknown_token_id"),
            addBOS: metadata.bool("tokenizer.ggml.add_bos_token") ?? false,
            addEOS: metadata.bool("tokenizer.ggml.add_eos_token") ?? false)
    }

    /// The file's own tokenizer, built once.
    static let smolLM2: ByteLevelBPETokenizer? = try? tokenizer()

    /// Tokenizers over the SmolLM2 vocabulary for each pre-tokenizer variant, built once.
    static let variants: [String: ByteLevelBPETokenizer] = {
        var result: [String: ByteLevelBPETokenizer] = [:]
        for name in ["gpt2", "llama-bpe", "qwen2"] { result[name] = try? tokenizer(preTokenizer: name) }
        result["smollm"] = smolLM2
        return result
    }()

    struct Fixture: Decodable {
        struct Variant: Decodable {
            var parseSpecial: [[Int32]]
            var plain: [[Int32]]
        }
        var texts: [String]
        var variants: [String: Variant]
    }

    static func fixture() throws -> Fixture {
        let directory = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/Fixtures/smollm2-bpe-reference.json"))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }
}
