#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory. The only place in this module that touches the
/// file system: loaders parse `bytes`, tensors point into it (zero copy), and the mapping lives
/// until the last owner (a checkpoint or model) is released.
///
/// `@unchecked Sendable`: the mapping is immutable (PROT_READ) and unmapped only in `deinit`.
public final class MappedFile: FileBackedMapping, @unchecked Sendable {
    public let path: String
    /// The mapped bytes (page aligned). Empty for an empty file.
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws(InferenceError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw InferenceError(.fileUnreadable, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw InferenceError(.fileUnreadable, "cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw InferenceError(.fileUnreadable, "'\(path)' is not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw InferenceError(.fileUnreadable, "cannot map '\(path)': \(String(cString: strerror(errno)))")
        }
        // Small pages only: a fault must not map a whole huge page of the page cache back in
        // after the loader dropped the ranges it repacked (`FileBackedMapping.dropPages`).
        _ = madvise(address, size, MADV_NOHUGEPAGE)
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    public var mappedBytes: UnsafeRawBufferPointer { bytes }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
