import Foundation

/// A `.safetensors` file mapped read-only: an 8-byte little-endian header length N, N bytes of
/// JSON (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`),
/// then the data; offsets are relative to the data start. Every offset is bounds-checked.
/// Separate from the image format; used by the BERT (embedding cartridge) burn path.
public final class SafetensorsFile: @unchecked Sendable {
    // @unchecked: immutable after init; the mapping is read-only and lives as long as the object.
    public struct Tensor: Hashable, Sendable {
        public var name: String
        /// "F32", "F16", "BF16", …
        public var dtype: String
        public var shape: [Int]
        /// Absolute byte range in the file.
        public var range: Range<Int>
    }

    public let path: String
    /// Tensors sorted by name (the JSON object has no order).
    public let tensors: [Tensor]
    public let metadata: [String: String]
    private let mapping: ImageMapping
    var mappingBytes: UnsafeRawBufferPointer { mapping.bytes }

    public init(path: String) throws(ImageError) {
        self.path = path
        mapping = try ImageMapping(path: path)
        func fail(_ message: String) -> ImageError { ImageError(.malformedSource, "safetensors '\(path)': \(message)") }
        let reader = LittleEndianBytes(mapping.bytes)
        guard let headerLength64 = reader.u64(at: 0) else { throw fail("shorter than the 8-byte header length") }
        guard headerLength64 <= 100 << 20, let json = reader.slice(offset: 8, length: Int(headerLength64)) else {
            throw fail("header length \(headerLength64) is larger than 100 MiB or than the file")
        }
        let dataStart = 8 + Int(headerLength64)
        let dataLength = reader.count - dataStart
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var tensors: [Tensor] = []
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                for (key, item) in value as? [String: Any] ?? [:] { metadata[key] = item as? String }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor '\(name)' lacks dtype, shape or data_offsets") }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw fail("tensor '\(name)' has dtype \(dtype); supported: F32, F16, BF16")
            }
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard dimension >= 1, !overflow, product <= ImageTensorTable.maximumElements else {
                    throw fail("tensor '\(name)' has an invalid shape \(shape)")
                }
                count = product
            }
            let begin = offsets[0], end = offsets[1]
            guard begin >= 0, end >= begin, end <= dataLength, end - begin == count * width else {
                throw fail("tensor '\(name)': data_offsets \(offsets) do not fit \(dtype) \(shape) inside \(dataLength) data bytes")
            }
            tensors.append(Tensor(name: name, dtype: dtype, shape: shape, range: (dataStart + begin)..<(dataStart + end)))
        }
        self.tensors = tensors.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        self.metadata = metadata
    }

    /// The raw bytes of `tensor` (a view into the mapping, valid while `self` lives).
    public func bytes(of tensor: Tensor) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.range]) }
}
