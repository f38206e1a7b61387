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
    private let descriptor: OwnedDescriptor
    private var buffer: [UInt8] = []

    /// Creates `path` (which must not exist) read-only for everyone: an image is never rewritten.
    init(creating path: String) throws(ImageError) {
        self.path = path
        do throws(SystemCallError) {
            descriptor = try OwnedDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o444)
        } catch {
            throw ImageError(.writeFailed, "cannot create '\(path)'", cause: error)
        }
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
        do throws(SystemCallError) {
            try descriptor.writeAll(bytes)
        } catch {
            throw ImageError(.writeFailed, "cannot write '\(path)'", cause: error)
        }
    }

    /// Flushes, syncs and closes.
    func finish() throws(ImageError) {
        try flush()
        do throws(SystemCallError) {
            _ = try SystemCall.retryingInterrupts("fsync") { [descriptor] in fsync(descriptor.rawValue) }
            try descriptor.close()
        } catch {
            throw ImageError(.writeFailed, "cannot sync and close '\(path)'", cause: error)
        }
    }
}
