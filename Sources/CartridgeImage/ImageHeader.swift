/// The fixed 128-byte header at offset 0 (see docs/IMAGE.md, "Header"). All integers little-endian.
public struct ImageHeader: Hashable, Sendable {
    /// `89 43 41 52 54 0D 0A 1A`: a high byte (catches 7-bit transfers), "CART", CR LF (catches
    /// newline conversion), and ^Z (stops `type` on DOS).
    public static let magic: [UInt8] = [0x89, 0x43, 0x41, 0x52, 0x54, 0x0D, 0x0A, 0x1A]
    public static let currentVersion: UInt32 = 1
    public static let length = 128
    public static let defaultSectionAlignment = 4096
    public static let defaultTensorAlignment = 64
    /// Largest alignment a reader accepts (1 MiB), so that padding cannot be used to blow up sizes.
    public static let maximumAlignment = 1 << 20

    public var formatVersion: UInt32 = currentVersion
    public var sectionAlignment: Int = defaultSectionAlignment
    public var tensorAlignment: Int = defaultTensorAlignment
    public var fileLength: Int = 0
    public var manifest: Range<Int> = 0..<0
    public var tensorTable: Range<Int> = 0..<0
    public var tokenizer: Range<Int> = 0..<0
    public var data: Range<Int> = 0..<0
    public var trailerOffset: Int = 0

    public init() {}

    func encoded() -> [UInt8] {
        var out = LittleEndianAppender()
        out.raw(Self.magic)
        out.u32(formatVersion)
        out.u32(UInt32(Self.length))
        out.u32(UInt32(sectionAlignment))
        out.u32(UInt32(tensorAlignment))
        out.u64(UInt64(fileLength))
        for section in [manifest, tensorTable, tokenizer, data] {
            out.u64(UInt64(section.lowerBound))
            out.u64(UInt64(section.count))
        }
        out.u64(UInt64(trailerOffset))
        out.zeros(Self.length - out.bytes.count)
        return out.bytes
    }

    /// Parses and checks the header against the actual file length. Never reads outside `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        let reader = LittleEndianBytes(bytes)
        guard reader.count >= 8 else {
            throw ImageError(.truncated, "file is \(reader.count) bytes, too short for the 8-byte image magic")
        }
        guard Array(bytes[0..<8]) == Self.magic else {
            throw ImageError(.badMagic, "not a cartridge image: first 8 bytes are \(hexString(bytes[0..<8])), expected \(hexString(Self.magic))")
        }
        guard let version = reader.u32(at: 8) else {
            throw ImageError(.truncated, "file is \(reader.count) bytes, too short for the format version")
        }
        guard version == currentVersion else {
            throw ImageError(.unsupportedVersion, "unsupported image format version \(version) (this reader understands version \(currentVersion))")
        }
        guard reader.count >= length else {
            throw ImageError(.truncated, "file is \(reader.count) bytes, too short for the \(length)-byte header")
        }
        func field(_ offset: Int, _ name: String) throws(ImageError) -> Int {
            // Every u64 field must fit in Int; anything above 2^62 is nonsense for a file anyway.
            let value = reader.u64(at: offset)!
            guard value <= UInt64(Int.max >> 1) else {
                throw ImageError(.malformedHeader, "header field \(name) = \(value) is out of range")
            }
            return Int(value)
        }
        let headerLength = Int(reader.u32(at: 12)!)
        guard headerLength == length else {
            throw ImageError(.malformedHeader, "header length is \(headerLength), version \(currentVersion) requires \(length)")
        }
        var header = ImageHeader()
        header.sectionAlignment = Int(reader.u32(at: 16)!)
        header.tensorAlignment = Int(reader.u32(at: 20)!)
        guard Alignment.isPowerOfTwo(header.sectionAlignment), header.sectionAlignment >= 64,
            header.sectionAlignment <= maximumAlignment
        else {
            throw ImageError(.malformedHeader, "section alignment \(header.sectionAlignment) is not a power of two in 64...\(maximumAlignment)")
        }
        guard Alignment.isPowerOfTwo(header.tensorAlignment), header.tensorAlignment >= 64,
            header.tensorAlignment <= header.sectionAlignment
        else {
            throw ImageError(
                .malformedHeader,
                "tensor alignment \(header.tensorAlignment) is not a power of two in 64...\(header.sectionAlignment) (the section alignment)")
        }
        header.fileLength = try field(24, "file_length")
        guard header.fileLength == reader.count else {
            if header.fileLength > reader.count {
                throw ImageError(.truncated, "file is \(reader.count) bytes but its header says \(header.fileLength): truncated")
            }
            throw ImageError(.malformedHeader, "file is \(reader.count) bytes but its header says \(header.fileLength): trailing bytes")
        }
        let names = ["manifest", "tensor table", "tokenizer", "tensor data"]
        var sections: [Range<Int>] = []
        var previousEnd = length
        for (index, name) in names.enumerated() {
            let offset = try field(32 + index * 16, "\(name) offset")
            let count = try field(40 + index * 16, "\(name) length")
            guard offset % header.sectionAlignment == 0 else {
                throw ImageError(.malformedHeader, "\(name) offset \(offset) is not a multiple of the section alignment \(header.sectionAlignment)")
            }
            guard offset >= previousEnd else {
                throw ImageError(.malformedHeader, "\(name) section at \(offset) overlaps the previous section (which ends at \(previousEnd))")
            }
            guard count <= header.fileLength, offset <= header.fileLength - count else {
                throw ImageError(.malformedHeader, "\(name) section \(offset)+\(count) runs past the end of the file (\(header.fileLength) bytes)")
            }
            sections.append(offset..<(offset + count))
            previousEnd = offset + count
        }
        header.manifest = sections[0]
        header.tensorTable = sections[1]
        header.tokenizer = sections[2]
        header.data = sections[3]
        header.trailerOffset = try field(96, "trailer offset")
        guard header.trailerOffset >= previousEnd, header.trailerOffset % 64 == 0 else {
            throw ImageError(
                .malformedHeader, "trailer offset \(header.trailerOffset) must be a multiple of 64 at or after the end of the tensor data (\(previousEnd))")
        }
        guard header.trailerOffset <= header.fileLength, header.fileLength - header.trailerOffset == ImageTrailer.length else {
            throw ImageError(
                .malformedHeader,
                "trailer at \(header.trailerOffset) must be the last \(ImageTrailer.length) bytes of the \(header.fileLength)-byte file")
        }
        guard reader.isZero(offset: 104, length: length - 104) else {
            throw ImageError(.malformedHeader, "reserved header bytes 104..<\(length) are not zero")
        }
        return header
    }
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var text = ""
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return text
}
