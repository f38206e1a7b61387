import CartridgeConformance
import CartridgeSystem

#if canImport(Glibc)
import Glibc
#endif

/// The repository's conformance/ scripts, read from the source tree.
enum ScriptDirectory {
    static let root: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    static func path(_ name: String) -> String { root + "/conformance/" + name }

    static func read(_ name: String) -> String {
        guard let bytes = try? FileBytes.read(path(name)) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    static var all: [String] {
        guard let directory = opendir(root + "/conformance") else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".cts") { names.append(name) }
        }
        return names.sorted()
    }

    static let variables = ["max_payload": 1 << 20, "handshake_payload": 65536, "max_in_flight": 16, "context_length": 512, "vocabulary_size": 512]
}
