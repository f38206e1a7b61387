#if canImport(Glibc)
import Glibc
#endif
import CartridgeSystem

/// A read-only, shared `mmap(2)` of a whole file. The pages come from the page cache on demand;
/// nothing is copied, and `PROT_READ` makes any write through the mapping fault.
///
/// `@unchecked Sendable`: the mapping is immutable (PROT_READ) for its whole life and is unmapped
/// only in `deinit`, when no one can hold a reference any more.
final class ImageMapping: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws(ImageError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ImageError(.fileUnreadable, "cannot open image '\(path)'", cause: SystemCallError.current("open"))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw ImageError(.fileUnreadable, "cannot stat image '\(path)'", cause: SystemCallError.current("fstat"))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ImageError(.fileUnreadable, "image '\(path)' is not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            throw ImageError(.truncated, "image '\(path)' is empty")
        }
        let address = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw ImageError(.fileUnreadable, "cannot map image '\(path)'", cause: SystemCallError.current("mmap"))
        }
        // Small pages only: a fault must not map a whole huge page of the page cache back in
        // after the loader dropped the ranges it repacked (`FileBackedMapping.dropPages`).
        _ = madvise(address, size, MADV_NOHUGEPAGE)
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Hints the kernel about the coming access pattern (sequential while hashing).
    func advise(sequential: Bool) {
        _ = madvise(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count, sequential ? MADV_SEQUENTIAL : MADV_NORMAL)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}
