import ArgumentParser
import Foundation

/// One test of `llama-bench -o json` (an array of these). Field names as printed by llama.cpp
/// 0c1e57098: `n_prompt`, `n_gen`, `n_threads`, `avg_ts`, `samples_ts` (one rate per repetition,
/// tokens per second), `model_size` (bytes of all tensors), `build_commit`.
struct LlamaBenchRecord: Decodable, Hashable {
    var buildCommit: String
    var modelSize: Int
    var threads: Int
    var promptTokens: Int
    var generatedTokens: Int
    var averageRate: Double
    var samples: [Double]

    enum CodingKeys: String, CodingKey {
        case buildCommit = "build_commit"
        case modelSize = "model_size"
        case threads = "n_threads"
        case promptTokens = "n_prompt"
        case generatedTokens = "n_gen"
        case averageRate = "avg_ts"
        case samples = "samples_ts"
    }

    /// The records of one llama-bench run's stdout.
    static func parse(_ output: String) throws -> [LlamaBenchRecord] {
        // llama-bench prints only the JSON array on stdout; skip anything before it anyway.
        guard let start = output.firstIndex(of: "[") else { throw ValidationError("llama-bench printed no JSON: \(output.prefix(300))") }
        do {
            return try JSONDecoder().decode([LlamaBenchRecord].self, from: Data(output[start...].utf8))
        } catch {
            throw ValidationError("cannot read llama-bench's JSON (\(error)): \(output.prefix(300))")
        }
    }
}
