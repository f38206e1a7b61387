/// EMBEDDINGS (0x86), the reply to EMBED: one L2-normalised vector per sentence, in order.
public struct EmbeddingsReply: WireMessage {
    public static let frameType = FrameType.embeddings
    public var dimension: UInt32
    /// `sentences × dimension` values, row-major.
    public var values: [Float]

    public init(dimension: UInt32, values: [Float]) {
        self.dimension = dimension
        self.values = values
    }

    public init(vectors: [[Float]]) {
        dimension = UInt32(vectors.first?.count ?? 0)
        values = vectors.flatMap { $0 }
    }

    public var vectors: [[Float]] {
        guard dimension > 0 else { return [] }
        let width = Int(dimension)
        return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<min($0 + width, values.count)]) }
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        dimension = try reader.readUInt32("dimension")
        values = try reader.readFloatList("values")
        guard dimension > 0 ? values.count % Int(dimension) == 0 : values.isEmpty else {
            throw WireError(.invalidValue, "values: \(values.count) is not a multiple of dimension \(dimension)")
        }
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(dimension)
        writer.write(values)
    }
}
