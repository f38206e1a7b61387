import CartridgeGGML
import CartridgeGGUF
import Testing

/// Truncation at every byte and a bounded, deterministic mutation fuzz: every outcome is either a
/// parse that satisfies the reader's guarantees or a `GGUFError` pointing inside the input.
@Suite struct MutationFuzzTests {
    /// A small file with every value kind and a few tensors.
    static let base: [UInt8] = {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("general.alignment", .uint32(16))
        writer.add("n", .uint32(30))
        writer.add("f", .float32(1e-5))
        writer.add("b", .bool(false))
        writer.add("i64", .int64(-1))
        writer.add("tokens", .array([.string("<s>"), .string("a"), .string("bc")]))
        writer.add("scores", .array([.float32(0), .float32(-1), .float32(-2)]))
        writer.add("nested", .array([.array([.uint16(1)]), .array([.string("z")])]))
        writer.addTensor(name: "emb", dimensions: [32, 2], type: .q8_0, data: (0..<68).map { UInt8($0) })
        writer.addTensor(name: "norm", dimensions: [4], type: .f32, data: [UInt8](repeating: 0x3F, count: 16))
        writer.addTensor(name: "w", dimensions: [32, 1, 1, 1], type: .q4_1, data: [UInt8](repeating: 1, count: 20))
        return try! writer.serialize()
    }()

    /// Checks the guarantees of a successful parse (`data(of:)` traps on a violation).
    static func checkInvariants(_ file: GGUFFile, _ raw: UnsafeRawBufferPointer) {
        #expect(file.version == 2 || file.version == 3)
        #expect(file.alignment > 0 && file.alignment & (file.alignment - 1) == 0)
        #expect(Set(file.tensors.map(\.name)).count == file.tensors.count)
        #expect(Set(file.metadata.map(\.key)).count == file.metadata.count)
        for tensor in file.tensors {
            #expect(tensor.offset % file.alignment == 0 && tensor.offset >= file.dataOffset)
            #expect(tensor.offset + tensor.byteCount <= raw.count)
            #expect(tensor.dimensions.count <= 4 && tensor.type.layout != nil)
            #expect(file.data(of: tensor).count == tensor.byteCount)
        }
    }

    @Test(arguments: ["base", "all-types-align64.gguf", "small-align16.gguf"])
    func truncationAtEveryByte(source: String) throws {
        let bytes = source == "base" ? Self.base : try #require(TestFiles.read(TestFiles.fixtures + "/" + source))
        let dataEnd: Int = try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            return file.tensors.map { $0.offset + $0.byteCount }.max() ?? 0
        }
        var parsed = 0
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            prefix.withUnsafeBytes { raw in
                do throws(GGUFError) {
                    let file = try GGUFFile(bytes: raw)
                    parsed += 1
                    #expect(length >= dataEnd, "prefix of \(length) bytes parsed")
                    Self.checkInvariants(file, raw)
                } catch {
                    #expect(length < dataEnd, "prefix of \(length) bytes: \(error)")
                    #expect(error.offset >= 0 && error.offset <= length, "\(error)")
                    #expect(error.code == .truncated || error.code == .tensorOutOfBounds || error.code == .countTooLarge, "\(error)")
                }
            }
        }
        // Only the zero padding after the last tensor may be cut.
        #expect(parsed == bytes.count - dataEnd)
    }

    @Test func twentyThousandMutations() {
        var rng = SplitMix64(seed: 0x6767_7566)
        let interesting: [UInt64] = [0, 1, 2, 3, 4, 5, 12, 13, 31, 32, 33, 255, 1 << 31, 1 << 32, 1 << 60, 1 << 63, .max, .max - 1]
        var outcomes: [String: Int] = [:]
        for _ in 0..<20_000 {
            var bytes = Self.base
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let position = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 6 {
                case 0:  // flip a bit
                    bytes[position] ^= UInt8(1) << (rng.next() % 8)
                case 1:  // random byte
                    bytes[position] = UInt8(truncatingIfNeeded: rng.next())
                case 2:  // truncate
                    bytes.removeSubrange(position...)
                case 3:  // corrupt a u64 length/count field with an interesting value
                    let value = interesting[Int(rng.next() % UInt64(interesting.count))]
                    for k in 0..<8 where position + k < bytes.count { bytes[position + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
                case 4:  // corrupt a u32 (type id, dimension count) with a small value
                    let value = UInt32(rng.next() % 48)
                    for k in 0..<4 where position + k < bytes.count { bytes[position + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
                default:  // delete or duplicate a few bytes
                    let count = min(Int(rng.next() % 9), bytes.count - position)
                    if rng.next() % 2 == 0 {
                        bytes.removeSubrange(position..<position + count)
                    } else {
                        bytes.insert(contentsOf: bytes[position..<position + count], at: position)
                    }
                }
                if bytes.isEmpty { break }
            }
            bytes.withUnsafeBytes { raw in
                do throws(GGUFError) {
                    let file = try GGUFFile(bytes: raw)
                    outcomes["parsed", default: 0] += 1
                    Self.checkInvariants(file, raw)
                } catch {
                    outcomes["\(error.code)", default: 0] += 1
                    #expect(error.offset >= 0 && error.offset <= raw.count, "\(error)")
                    #expect(!error.message.isEmpty)
                }
            }
        }
        print("mutation outcomes:", outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        #expect(outcomes.values.reduce(0, +) == 20_000)
        // The mutations reach deep into the format, not just the header.
        #expect(outcomes["parsed", default: 0] > 100)
        for code in ["truncated", "badMagic", "unknownValueType", "countTooLarge", "tensorOutOfBounds"] {
            #expect(outcomes[code, default: 0] > 0, "no \(code) outcome")
        }
    }
}

/// A small deterministic generator (SplitMix64), so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
