import Glibc

/// The reference model files of shared/models (never copied into the repository). Tests that
/// need them are skipped, with this reason, when they are absent.
enum SharedModels {
    static let directory: String? = {
        // The repository's sibling ../shared/models (as on CI), then the development machine's copy.
        let repository = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))
        for candidate in [repository + "/../shared/models", "/work/shared/models"]
        where access(candidate + "/stories260K.bin", R_OK) == 0 {
            return candidate
        }
        return nil
    }()

    static var stories260K: String? { directory.map { $0 + "/stories260K.bin" } }
    static var llama2Tokenizer: String? {
        directory.map { $0 + "/llama2-tokenizer.bin" }.flatMap { access($0, R_OK) == 0 ? $0 : nil }
    }

    static let missingReason = "shared/models (stories260K.bin, llama2-tokenizer.bin) not found next to the repository"
}

/// A file in a fresh temporary directory, removed by `remove()`.
struct TemporaryFile {
    let path: String

    init(_ name: String) {
        var template = Array("/tmp/cartridge-inference-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        path = directory + "/" + name
    }

    func write(_ bytes: [UInt8]) {
        let file = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    /// Writes whatever `produce` passes to its sink, and returns the byte count.
    func write(_ produce: ((UnsafeRawBufferPointer) -> Void) -> Void) -> Int {
        let file = fopen(path, "wb")!
        var count = 0
        produce { bytes in count += fwrite(bytes.baseAddress, 1, bytes.count, file) }
        fclose(file)
        return count
    }

    func remove() {
        unlink(path)
        rmdir(String(path[..<path.lastIndex(of: "/")!]))
    }
}
