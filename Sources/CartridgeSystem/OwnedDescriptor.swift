import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor with one owner: closed exactly once, by `close()` (which reports close(2)'s
/// error) or else when the owner is released (`deinit`), so no error path can leak it.
///
/// The number stays valid until `close()`; whoever closes must make sure no other thread still
/// uses it (a blocked `read` is woken first, e.g. with `shutdown(2)` on a socket), because the
/// kernel reuses numbers at once.
public final class OwnedDescriptor: Sendable, CustomStringConvertible {
    private let value: Atomic<Int32>

    /// Takes ownership of `rawValue`, an open descriptor.
    public init(adopting rawValue: Int32) {
        precondition(rawValue >= 0, "OwnedDescriptor needs an open descriptor, got \(rawValue)")
        value = Atomic(rawValue)
    }

    /// `open(2)` with `O_CLOEXEC` added, retrying EINTR.
    public static func open(
        _ path: String, _ flags: Int32, mode: mode_t = 0, fileID: String = #fileID, line: Int = #line
    ) throws(SystemCallError) -> OwnedDescriptor {
        let descriptor = try SystemCall.retryingInterrupts("open \(path)", fileID: fileID, line: line) {
            Glibc.open(path, flags | O_CLOEXEC, mode)
        }
        return OwnedDescriptor(adopting: descriptor)
    }

    deinit {
        let descriptor = value.exchange(-1, ordering: .acquiringAndReleasing)
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// The descriptor number; -1 after `close()`.
    public var rawValue: Int32 { value.load(ordering: .acquiring) }

    /// Whether `close()` has not been called yet.
    public var isOpen: Bool { rawValue >= 0 }

    /// Closes the descriptor now. Idempotent: later calls (and `deinit`) do nothing. Throws what
    /// close(2) reports (EIO: written data may be lost); the descriptor is released either way
    /// (on Linux even an interrupted close frees it, so EINTR is not an error here).
    public func close(fileID: String = #fileID, line: Int = #line) throws(SystemCallError) {
        let descriptor = value.exchange(-1, ordering: .acquiringAndReleasing)
        guard descriptor >= 0 else { return }
        if Glibc.close(descriptor) == -1 && Errno.current != .interrupted {
            throw .current("close", fileID: fileID, line: line)
        }
    }

    /// One `read(2)` into `buffer`, retrying EINTR: the byte count, 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, unless isCancelled: () -> Bool = { false }) throws(SystemCallError) -> Int {
        let descriptor = rawValue
        return try SystemCall.retryingInterrupts("read", unless: isCancelled) { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)` until all of `bytes` are written, retrying EINTR.
    public func writeAll(_ bytes: UnsafeRawBufferPointer, unless isCancelled: () -> Bool = { false }) throws(SystemCallError) {
        let descriptor = rawValue
        var offset = 0
        while offset < bytes.count {
            offset += try SystemCall.retryingInterrupts("write", unless: isCancelled) {
                Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
        }
    }

    /// Reads to the end of the file, at most `limit` bytes (the rest, if any, is not read).
    public func readToEnd(limit: Int) throws(SystemCallError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(limit, 65536))
        while bytes.count < limit {
            let wanted = min(buffer.count, limit - bytes.count)
            let descriptor = rawValue
            let count = try SystemCall.retryingInterrupts("read") {
                buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    public var description: String { "fd \(rawValue)" }
}
