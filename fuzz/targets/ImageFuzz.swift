// libFuzzer target: the cartridge image's structural readers (header, canonical manifest, tensor
// table, trailer), each on the whole input, and the tensor table at the offsets the header names.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    if let header = try? ImageHeader.parse(raw) {
        // The header's ranges were checked against the file length: slice them as the reader does.
        _ = try? ImageManifest.parse(UnsafeRawBufferPointer(rebasing: raw[header.manifest]))
        _ = try? ImageTensorTable.parse(
            UnsafeRawBufferPointer(rebasing: raw[header.tensorTable]), data: header.data, tensorAlignment: header.tensorAlignment)
        _ = try? ImageTrailer.parse(UnsafeRawBufferPointer(rebasing: raw[header.trailerOffset...]))
    }
    _ = try? ImageManifest.parse(raw)
    _ = try? ImageTensorTable.parse(raw, data: 0..<(1 << 20), tensorAlignment: 64)
    _ = try? ImageTrailer.parse(raw)
    return 0
}
