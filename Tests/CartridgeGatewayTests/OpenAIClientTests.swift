import CartridgeClient
import CartridgeTestSupport
import CartridgeWire
import Foundation
import Testing

/// Runs Tests/gateway/*.py (pytest, with the real `openai` Python package as the client) against
/// `cartridge serve` over two real cartridged processes: a generative model (stories260K from
/// shared/models when present, else the tiny synthetic checkpoint) and an embedding model
/// (all-MiniLM-L6-v2 from scripts/fetch-default-model.sh when it can be fetched, else the tiny BERT).
/// `make test` installs the Python packages (scripts/install-python-deps.sh).
@Suite("gateway with the openai Python client", .serialized, .timeLimit(.minutes(8)))
struct OpenAIClientTests {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Output and exit status of a command (stdout and stderr together, through a file).
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let log = NSTemporaryDirectory() + "gateway-runner-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }

    static let pythonReady: Bool = {
        let ready = (try? run(["python3", "-c", "import openai, pytest"]))?.status == 0
        if !ready {
            print("skipping the openai-client gateway tests: python3 with the openai and pytest packages is missing (scripts/install-python-deps.sh installs them)")
        }
        return ready
    }()

    /// The chat model (SmolLM2-135M-Instruct GGUF) from scripts/fetch-chat-model.sh, or nil.
    static func chatModelPath() -> String? {
        guard let fetched = try? run(["sh", repositoryRoot + "/scripts/fetch-chat-model.sh"]), fetched.status == 0,
            let path = fetched.output.split(separator: "\n").last.map(String.init), FileManager.default.isReadableFile(atPath: path)
        else { return nil }
        return path
    }

    /// The generative model's cartridged arguments.
    static func generativeModel(in directory: TemporaryDirectory) throws -> [String] {
        let root = repositoryRoot
        for candidate in [root + "/../shared/models", "/work/shared/models"] {
            let checkpoint = candidate + "/stories260K.bin", tokenizer = candidate + "/llama2-tokenizer.bin"
            if FileManager.default.isReadableFile(atPath: checkpoint), FileManager.default.isReadableFile(atPath: tokenizer) {
                return ["--checkpoint", checkpoint, "--tokenizer", tokenizer]
            }
        }
        print("openai-client gateway tests: shared/models/stories260K.bin not found; serving the tiny synthetic checkpoint")
        let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
        let tokenizer = try directory.write(SyntheticTokenizer.fileBytes(size: TinyCheckpoint.vocabulary), to: "tokenizer.bin")
        return ["--checkpoint", checkpoint, "--tokenizer", tokenizer]
    }

    /// The embedding model's cartridged arguments.
    static func embeddingModel(in directory: TemporaryDirectory) throws -> [String] {
        if let fetched = try? run(["sh", repositoryRoot + "/scripts/fetch-default-model.sh"]), fetched.status == 0,
            let path = fetched.output.split(separator: "\n").last.map(String.init),
            FileManager.default.fileExists(atPath: path + "/model.safetensors")
        {
            return ["--embedding-model", path]
        }
        print("openai-client gateway tests: all-MiniLM-L6-v2 could not be fetched; serving the tiny BERT")
        return ["--embedding-model", try TinyBertModel.write(into: directory)]
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        guard bound == 0 else { throw DaemonFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(.enabled(if: pythonReady, "python3 with openai and pytest is missing"))
    func openAIPythonClientAgainstTheGateway() async throws {
        let directory = try TemporaryDirectory("gateway-openai")
        let generativeArguments = try Self.generativeModel(in: directory)
        let generator = try await RunningDaemon(model: (generativeArguments, directory))
        let embedder = try await RunningDaemon(model: (try Self.embeddingModel(in: directory), try TemporaryDirectory("gateway-openai-embed")))
        // The chat cartridge: SmolLM2-135M-Instruct (GGUF) with its own chat template, when present.
        var chatter: RunningDaemon?
        if let chatModel = Self.chatModelPath() {
            chatter = try await RunningDaemon(model: (["--gguf", chatModel], try TemporaryDirectory("gateway-openai-chat")))
        } else {
            print("openai-client gateway tests: the chat model could not be fetched (scripts/fetch-chat-model.sh); the chat tests skip")
        }
        let port = try Self.freePort()
        var arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--no-usb", "--connect", "unix:\(generator.socketPath)",
                         "--connect", "unix:\(embedder.socketPath)", "--log-level", "warning"]
        if let chatter { arguments += ["--connect", "unix:\(chatter.socketPath)"] }
        let gateway = try ChildProcess("cartridge", arguments)
        #expect(await gateway.waitForOutput(containing: "listening on http://127.0.0.1:\(port)", timeout: .seconds(20)))
        let generatorCard = try await generator.connect().info()
        let embedderCard = try await embedder.connect().info()
        var environment = [
            "GATEWAY_BASE_URL": "http://127.0.0.1:\(port)",
            "GATEWAY_COMPLETION_MODEL": generatorCard.name,
            "GATEWAY_EMBEDDING_MODEL": embedderCard.name,
            "GATEWAY_EMBEDDING_CONNECT": "unix:\(embedder.socketPath)",
            "GATEWAY_COMPLETION_DAEMON": String(decoding: try JSONSerialization.data(withJSONObject: generativeArguments), as: UTF8.self),
            "CARTRIDGE_BIN_DIR": ChildProcess.buildDirectory.path,
            "PYTHONDONTWRITEBYTECODE": "1",
            "GATEWAY_CARTRIDGES": chatter == nil ? "2" : "3",
        ]
        if let chatter { environment["GATEWAY_CHAT_MODEL"] = try await chatter.connect().info().name }
        let result = try Self.run(
            ["python3", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", Self.repositoryRoot + "/Tests/gateway"],
            environment: environment, directory: Self.repositoryRoot)
        print(result.output)
        #expect(result.status == 0, "pytest failed:\n\(result.output)")
        gateway.signal(SIGTERM)
        #expect(await gateway.wait(timeout: .seconds(10)) == 0)
        _ = await generator.stop()
        _ = await embedder.stop()
        if let chatter { _ = await chatter.stop() }
    }
}
