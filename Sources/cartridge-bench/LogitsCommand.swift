import ArgumentParser
import CartridgeImage
import CartridgeInference

#if canImport(Glibc)
import Glibc
#endif

/// `cartridge-bench llm logits`: teacher-forced logits of every prompt position, as little-endian
/// float32 [positions x vocab], for comparison with a reference (scripts/reference/compare-logits.py).
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Write the teacher-forced logits of every position of a token sequence (float32 LE, positions x vocab).")
    @Option(help: "GGUF model file.") var gguf: String
    @Option(help: "Token ids, comma-separated (brackets and spaces allowed).") var tokens: String?
    @Option(help: "File holding the token ids (as --tokens).") var tokensFile: String?
    @Option(name: .shortAndLong, help: "Output file.") var output: String
    @Option(help: "Worker threads.") var threads: Int = 1
    @Option(help: "KV-cache element type: q16 (cartridged's default for GGUF), f32 or f16.") var kvCacheType: KVCacheType?

    func run() throws {
        var text = tokens ?? ""
        if let tokensFile {
            guard let file = fopen(tokensFile, "rb") else { throw ValidationError("cannot open \(tokensFile)") }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count == 0 { break }
                bytes += buffer[0..<count]
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        let ids = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
        guard !ids.isEmpty else { throw ValidationError("give --tokens or --tokens-file with at least one id") }
        let source = try GGUFImage.open(ggufPath: gguf)
        let model = try source.model.withKVCache(kvCacheType)
            .makeModel(file: source.file, owner: source.mapping, maximumWorkers: threads)
        let logits = try model.makeSession().logitsOfEveryPosition(forPrompt: ids)
        guard let out = fopen(output, "wb") else { throw ValidationError("cannot write \(output)") }
        defer { fclose(out) }
        _ = logits.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, out) }
        print("wrote \(ids.count) positions x \(model.config.vocab) logits to \(output)")
    }
}
