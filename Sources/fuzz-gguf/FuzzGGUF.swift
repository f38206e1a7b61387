// libFuzzer target for CartridgeGGUF's reader. Not a SwiftPM target (SwiftPM cannot pass
// -sanitize=fuzzer per target); build it by hand from the repository root:
//
//   B=/tmp/fuzz-gguf-build; mkdir -p $B
//   swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name CartridgeGGML -emit-module \
//     -emit-module-path $B/CartridgeGGML.swiftmodule -c Sources/CartridgeGGML/GGMLType.swift -o $B/ggml.o
//   swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name CartridgeGGUF -I $B -emit-module \
//     -emit-module-path $B/CartridgeGGUF.swiftmodule -wmo Sources/CartridgeGGUF/*.swift -c -o $B/gguf.o
//   swiftc -sanitize=fuzzer,address -parse-as-library -O -g -I $B Sources/fuzz-gguf/FuzzGGUF.swift \
//     $B/ggml.o $B/gguf.o -o $B/fuzz-gguf
//   $B/fuzz-gguf -max_total_time=300 -max_len=4096 -rss_limit_mb=1024 /tmp/gguf-corpus Tests/Fuzz/gguf-corpus
//
// (copy the seed corpus first if new inputs should not land in the repository:
//  mkdir -p /tmp/gguf-corpus; the first directory receives new inputs.)
// Every input must either parse, satisfying the reader's guarantees, or throw a GGUFError.
import CartridgeGGUF

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    do throws(GGUFError) {
        let file = try GGUFFile(bytes: bytes)
        precondition(file.alignment > 0 && file.alignment & (file.alignment - 1) == 0)
        for tensor in file.tensors {
            precondition(tensor.offset % file.alignment == 0 && tensor.offset >= file.dataOffset)
            let data = file.data(of: tensor)  // traps if out of the buffer
            precondition(data.count == tensor.byteCount)
            if let first = data.first, let last = data.last { _ = first &+ last }  // touch both ends
        }
        for entry in file.metadata { precondition(file[entry.key] != nil) }
    } catch {
        precondition(error.offset >= 0 && error.offset <= size, "\(error)")
    }
    return 0
}
