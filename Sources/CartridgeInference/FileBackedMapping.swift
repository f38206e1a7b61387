#if canImport(Glibc)
import Glibc
#endif

/// A read-only mapping of a file (a `MappedFile`, a verified cartridge image). Pages dropped from
/// it are read back from the file when touched again, so a loader that copied what it needs out
/// of a range (the interleaved repacking of a matrix) can give that range's memory back: the
/// copy is then counted once in the process's resident memory, not twice.
public protocol FileBackedMapping: AnyObject, Sendable {
    /// The whole mapping.
    var mappedBytes: UnsafeRawBufferPointer { get }
}

extension FileBackedMapping {
    /// Drops the resident pages lying wholly inside `range` (a range of `mappedBytes`; partial
    /// pages at either end stay). Returns the bytes dropped (0 when the range is outside the
    /// mapping or madvise refused, which only costs memory).
    @discardableResult
    public func dropPages(in range: UnsafeRawBufferPointer) -> Int {
        guard let base = mappedBytes.baseAddress, let start = range.baseAddress, range.count > 0 else { return 0 }
        let mapStart = Int(bitPattern: base), mapEnd = mapStart + mappedBytes.count
        let first = Int(bitPattern: start), last = first + range.count
        guard first >= mapStart, last <= mapEnd else { return 0 }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let alignedStart = (first + page - 1) / page * page
        let alignedEnd = last / page * page
        guard alignedStart < alignedEnd, let pointer = UnsafeMutableRawPointer(bitPattern: alignedStart) else { return 0 }
        return madvise(pointer, alignedEnd - alignedStart, MADV_DONTNEED) == 0 ? alignedEnd - alignedStart : 0
    }
}
