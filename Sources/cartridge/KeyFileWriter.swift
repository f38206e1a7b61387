#if canImport(Glibc)
import Glibc
#endif

/// Writes a secret (a private key) to a new file readable only by its owner.
enum KeyFileWriter {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func writeSecret(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw Failure(description: "cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }
}
