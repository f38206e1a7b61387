import ArgumentParser
import CartridgeGGML
import CartridgeInference

#if canImport(Glibc)
import Glibc
#endif

/// `cartridge-bench llm make-gguf`: writes the tiny random-weight Llama GGUF (byte-level BPE
/// vocabulary, ChatML template) the tests and the USB VM serve as a fast chat cartridge.
struct MakeGGUFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-gguf", abstract: "Write a tiny random-weight Llama GGUF chat model (for tests and the VM).")
    @Option(name: .shortAndLong, help: "Output file.") var output: String
    @Option(help: "Layer matrix type: Q8_0, F16 or F32.") var type: String = "Q8_0"
    @Option(help: "Random seed.") var seed: UInt64 = 11

    func run() throws {
        let matrixType: GGMLType
        switch type.uppercased() {
        case "Q8_0": matrixType = .q8_0
        case "F16": matrixType = .f16
        case "F32": matrixType = .f32
        default: throw ValidationError("--type must be Q8_0, F16 or F32")
        }
        let bytes = try SyntheticGGUFModel.fileBytes(seed: seed, matrixType: matrixType)
        guard let file = fopen(output, "wb") else { throw ValidationError("cannot write \(output)") }
        defer { fclose(file) }
        guard bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else {
            throw ValidationError("short write to \(output)")
        }
        print("wrote \(output) (\(bytes.count) bytes)")
    }
}
