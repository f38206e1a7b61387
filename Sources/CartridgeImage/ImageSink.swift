#if canImport(Glibc)
import Glibc
#endif
import CartridgeSystem

/// Where the writer puts bytes: memory (tests) or a file.
protocol ImageSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError)
}

struct MemoryImageSink: ImageSink {
    var bytes: [UInt8] = []
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) { self.bytes += bytes }
}

/// Writes through a 1 MiB buffer to a file descriptor it owns.
final class FileImageSink: ImageSink {
    let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []

    /// Creates `path` (which must not exist) read-only for everyone: an image is never rewritten.
    init(creating path: String) throws(ImageError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw ImageError(.writeFailed, "cannot create '\(path)'", cause: SystemCallError.current("open")) }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        if buffer.count + bytes.count > (1 << 20) { try flush() }
        if bytes.count >= (1 << 20) {
            try writeAll(bytes)
        } else {
            buffer += bytes
        }
    }

    func flush() throws(ImageError) {
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        try withRawBytes(pending) { (raw) throws(ImageError) in try writeAll(raw) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ImageError(.writeFailed, "cannot write '\(path)'", cause: SystemCallError.current("write"))
            }
            offset += written
        }
    }

    /// Flushes, syncs and closes.
    func finish() throws(ImageError) {
        try flush()
        guard fsync(fd) == 0 else { throw ImageError(.writeFailed, "cannot sync '\(path)'", cause: SystemCallError.current("fsync")) }
        close(fd)
        fd = -1
    }

    deinit { if fd >= 0 { close(fd) } }
}
