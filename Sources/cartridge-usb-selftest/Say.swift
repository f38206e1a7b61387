#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to stdout unbuffered: the VM script watches redirected output for progress
/// lines while the process is still running (stdio would hold them in a block buffer).
func say(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}
