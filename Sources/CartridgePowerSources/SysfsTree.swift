import CartridgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// Blocking reads below a sysfs root ("/sys", or a fake tree in a temporary directory for tests).
/// Call from a dedicated thread.
public struct SysfsTree: Sendable {
    public var root: String

    public init(root: String = "/sys") {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    public func path(_ relative: String) -> String { root + "/" + relative }

    public func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }

    /// The file's content without the trailing newline. Files are capped at 4 KiB (attributes are one line).
    public func text(_ relative: String) throws(PowerSourceError) -> String {
        let full = path(relative)
        let descriptor: OwnedDescriptor
        do throws(SystemCallError) { descriptor = try OwnedDescriptor.open(full, O_RDONLY) } catch { throw Self.openError(full, error) }
        let bytes: [UInt8]
        do throws(SystemCallError) { bytes = try descriptor.readToEnd(limit: 4096) } catch {
            throw PowerSourceError(.ioFailure, "cannot read \(full)", cause: error)
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while let last = text.last, last == "\n" || last == " " || last == "\t" || last == "\0" { text.removeLast() }
        return text
    }

    /// Entry names in a directory (without "." and ".."), sorted.
    public func entries(_ relative: String) throws(PowerSourceError) -> [String] {
        let full = path(relative)
        guard let directory = opendir(full) else { throw Self.openError(full, .current("opendir")) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private static func openError(_ path: String, _ cause: SystemCallError) -> PowerSourceError {
        if cause.code == .noSuchFileOrDirectory || cause.code == .notADirectory {
            return PowerSourceError(.missingFile, "\(path) does not exist", cause: cause)
        }
        return PowerSourceError(.ioFailure, "cannot open \(path)", cause: cause)
    }
}
