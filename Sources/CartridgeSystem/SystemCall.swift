#if canImport(Glibc)
import Glibc
#endif

/// The one place where the cartridge sorts a system call's failure: EINTR is retried here, every
/// other failure becomes a `SystemCallError` carrying the call's name and its errno.
///
/// ```swift
/// let count = try SystemCall.retryingInterrupts("read") { read(fd, buffer, size) }
/// ```
///
/// Calls that a `DedicatedThread.cancel()` must be able to stop pass `unless:`; an interrupted call
/// is then not retried once the thread is cancelled, and fails with `ECANCELED`.
public enum SystemCall {
    /// Runs `call`, a system call that returns -1 and sets `errno` on failure, until it ends
    /// with anything but EINTR. Returns the call's result; throws its errno as a `SystemCallError`.
    ///
    /// - Parameters:
    ///   - name: the call's name for the error (`"read"`).
    ///   - isCancelled: checked after each EINTR; when it is true the call is not retried and
    ///     fails with `ECANCELED` (`.cancelled`).
    @inlinable
    public static func retryingInterrupts<Result: BinaryInteger>(
        _ name: String, unless isCancelled: () -> Bool = { false }, fileID: String = #fileID, line: Int = #line,
        _ call: () -> Result
    ) throws(SystemCallError) -> Result {
        while true {
            let result = call()
            if result != -1 { return result }
            let error = Errno.current
            if error == .interrupted {
                if isCancelled() { throw SystemCallError(systemCall: name, errno: .cancelled, fileID: fileID, line: line) }
                continue
            }
            throw SystemCallError(systemCall: name, errno: error, fileID: fileID, line: line)
        }
    }
}
