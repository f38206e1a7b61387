#if canImport(Glibc)
import Glibc
#endif

/// Whole small files (scripts, key lists, fixtures), read with plain stdio.
public enum FileBytes {
    /// The file's bytes; refuses files larger than `limit`.
    public static func read(_ path: String, limit: Int = 64 << 20) throws(SystemCallError) -> [UInt8] {
        guard let file = fopen(path, "rbe") else { throw .current("fopen \(path)") }  // e: O_CLOEXEC
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 {
                if ferror(file) != 0 { throw .current("fread \(path)") }
                return bytes
            }
            bytes += buffer[0..<count]
            if bytes.count > limit { throw SystemCallError(systemCall: "read \(path) (larger than \(limit) bytes)", errno: EFBIG) }
        }
    }
}
