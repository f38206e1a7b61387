#if canImport(Glibc)
import Glibc
#endif

/// File access for the tests (Foundation-free): fixture paths next to this file, whole-file reads,
/// and a read-only mapping of the real model file.
enum TestFiles {
    static let fixtures: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast()
        return components.joined(separator: "/") + "/Fixtures"
    }()

    /// Where scripts/fetch-chat-model.sh caches it: $CARTRIDGE_CACHE, else $XDG_CACHE_HOME/cartridge, else ~/.cache/cartridge.
    static let smolLM2Path: String = {
        func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let cache = variable("CARTRIDGE_CACHE") ?? ((variable("XDG_CACHE_HOME") ?? ((variable("HOME") ?? "/root") + "/.cache")) + "/cartridge")
        return cache + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }()

    /// The whole file, or nil if it cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// A read-only mapping of `path`, unmapped when released.
    final class Mapping: @unchecked Sendable {  // immutable PROT_READ mapping, unmapped in deinit
        let bytes: UnsafeRawBufferPointer

        init?(path: String) {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_size > 0,
                let address = mmap(nil, Int(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED
            else { return nil }
            bytes = UnsafeRawBufferPointer(start: address, count: Int(info.st_size))
        }

        deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
    }
}

extension Array where Element == UInt8 {
    /// Parses these bytes as a GGUF file (the parse result does not outlive the call).
    func withParsed<R>(_ body: (GGUFFileResult) -> R) -> R {
        withUnsafeBytes { raw in
            do throws(GGUFError) {
                return body(.success(try GGUFFile(bytes: raw)))
            } catch {
                return body(.failure(error))
            }
        }
    }

    /// The error parsing these bytes throws, or nil if they parse.
    var parseError: GGUFError? {
        withParsed { if case .failure(let e) = $0 { e } else { nil } }
    }
}

typealias GGUFFileResult = Result<GGUFFile, GGUFError>

import CartridgeGGUF
