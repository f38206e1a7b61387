import ArgumentParser
import CartridgeImage
import CartridgeInference
import Foundation

/// Time from process start to ready with a 110M-shape image: a child process is spawned, maps
/// the image read-only, verifies it (SHA-256 over all content, the stated hashing cost), builds
/// the model from tensor views into the mapping, and reports "ready". The parent measures from
/// just before the spawn to the "ready" line. Page cache warm (the previous run read the file).
struct StartupBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Process start to ready with a cartridge image (110M shape by default; llama or bert images): map, verify, build the model.")

    @Option(help: "An existing image; default: burn a random-weight stories110M-shape image into --work-directory.")
    var image: String?
    @Option(help: "Storage of the synthetic image: fp32 or q8_0.") var quantize = "fp32"
    @Option(help: "Where to put the synthetic checkpoint and image.") var workDirectory = "/tmp/cartridge-startup-bench"
    @Option(help: "Timed child starts.") var runs = 3
    @Option(help: "Trusted-keys file to pass to the child (signature check cost).") var trustedKeys: String?
    @Flag(help: .hidden) var child = false

    func run() throws {
        if child { return try runChild() }
        let path = try image ?? prepareSyntheticImage()
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("image \(path): \(size / 1_048_576) MiB")
        var totals: [Double] = []
        for run in 0...runs {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = ["startup", "--child", "--image", path] + (trustedKeys.map { ["--trusted-keys", $0] } ?? [])
            let pipe = Pipe()
            process.standardOutput = pipe
            let clock = ContinuousClock()
            let start = clock.now
            try process.run()
            let line = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let elapsed = milliseconds(clock.now - start)
            process.waitUntilExit()
            guard process.terminationStatus == 0, line.hasPrefix("ready") else {
                throw ValidationError("child failed (status \(process.terminationStatus)): \(line)")
            }
            // Run 0 warms the page cache and is not counted.
            print(run == 0 ? "warm-up: \(line.trimmingCharacters(in: .newlines))" : "run \(run): start-to-ready \(format(elapsed)) ms (parent clock); \(line.trimmingCharacters(in: .newlines))")
            if run > 0 { totals.append(elapsed) }
        }
        totals.sort()
        print("start-to-ready median \(format(totals[totals.count / 2])) ms over \(totals.count) runs (warm page cache)")
    }

    /// In the child: everything between process start and "ready".
    private func runChild() throws {
        let clock = ContinuousClock()
        let start = clock.now
        guard let image else { throw ValidationError("--child needs --image") }
        let keys = try trustedKeys.map { path throws(ImageError) in try TrustedKeys(contentsOf: path) }
        let verified = try CartridgeImage.open(path: image, trustedKeys: keys)
        let opened = clock.now
        let layers: Int
        if verified.manifest.family == BertImage.family {
            layers = try BertImage.makeEmbedder(from: verified).encoder.config.layerCount  // the embedding cartridge
        } else {
            layers = try LlamaImage.makeModel(from: verified).config.layers
        }
        let built = clock.now
        let memory = residentMemory()
        let mib = Double(verified.hashedByteCount) / 1_048_576
        let hashSeconds = milliseconds(verified.hashingDuration) / 1000
        print(
            "ready open+verify \(format(milliseconds(opened - start))) ms (hashing \(format(hashSeconds * 1000)) ms = \(format(mib / hashSeconds)) MiB/s), model \(format(milliseconds(built - opened))) ms, \(layers) layers; RssAnon \(memory.anonymous / 1024) MiB, RssFile \(memory.file / 1024) MiB")
    }

    private func prepareSyntheticImage() throws -> String {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let imagePath = workDirectory + "/stories110M-shape-\(quantize).cart"
        if FileManager.default.fileExists(atPath: imagePath) { return imagePath }
        let checkpointPath = workDirectory + "/stories110M-shape.bin"
        let tokenizerPath = workDirectory + "/tokenizer-32000.bin"
        let clock = ContinuousClock()
        if !FileManager.default.fileExists(atPath: checkpointPath) {
            let start = clock.now
            let synthetic = try SyntheticCheckpoint(config: .stories110M, seed: 110)
            _ = FileManager.default.createFile(atPath: checkpointPath, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: checkpointPath))
            try synthetic.writeFloat32 { bytes in try handle.write(contentsOf: Data(bytes)) }
            try handle.close()
            print("wrote random-weight stories110M-shape checkpoint in \(format(milliseconds(clock.now - start))) ms")
        }
        if !FileManager.default.fileExists(atPath: tokenizerPath) {
            // A valid tokenizer.bin with 32000 pieces ("<0x00>".. style placeholders).
            var bytes: [UInt8] = []
            func append<T>(_ value: T) { withUnsafeBytes(of: value) { bytes += $0 } }
            append(Int32(16))
            for id in 0..<32000 {
                let piece = Array("t\(id)".utf8)
                append(Float(-Double(id)))
                append(Int32(piece.count))
                bytes += piece
            }
            _ = FileManager.default.createFile(atPath: tokenizerPath, contents: Data(bytes))
        }
        let start = clock.now
        try LlamaImage.burn(
            checkpointPath: checkpointPath, tokenizerPath: tokenizerPath,
            storage: quantize == "q8_0" ? .q8_0(preferredGroupSize: 64) : .float32,
            card: LlamaImage.Card(name: "stories110M-shape (random weights)", license: "CC0-1.0", publisher: "cartridge-bench"),
            signingKey: nil, to: imagePath)
        print("burned \(imagePath) in \(format(milliseconds(clock.now - start))) ms")
        return imagePath
    }

    private func residentMemory() -> (anonymous: Int, file: Int) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return (field("RssAnon"), field("RssFile"))
    }
}

private func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

private func format(_ value: Double) -> String { String(format: "%.1f", value) }
