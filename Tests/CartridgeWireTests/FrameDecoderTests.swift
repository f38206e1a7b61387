import CartridgeWire
import Testing

@Suite("FrameDecoder")
struct FrameDecoderTests {
    static let frames: [Frame] = ProtocolDocument.vectors.filter { $0.kind == "vector" }.map { vector in
        var decoder = FrameDecoder(maximumPayloadLength: 1 << 20)
        decoder.append(vector.bytes)
        guard case .frame(let frame) = decoder.next() else { fatalError("bad vector \(vector.name)") }
        return frame
    }
    static let stream: [UInt8] = frames.flatMap { $0.encoded() }

    static func decodeAll(_ chunks: [ArraySlice<UInt8>], limit: UInt32 = 1 << 20) -> [FrameDecoder.Event] {
        var decoder = FrameDecoder(maximumPayloadLength: limit)
        var events: [FrameDecoder.Event] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let event = decoder.next() { events.append(event) }
        }
        return events
    }

    @Test func severalFramesInOneRead() {
        let events = Self.decodeAll([Self.stream[...]])
        #expect(events == Self.frames.map { .frame($0) })
    }

    @Test func byteByByte() {
        let chunks = Self.stream.indices.map { Self.stream[$0...$0] }
        #expect(Self.decodeAll(chunks) == Self.frames.map { .frame($0) })
    }

    @Test func splitAtEveryOffset() {
        let stream = Self.stream
        for offset in 0...stream.count {
            let events = Self.decodeAll([stream[0..<offset], stream[offset...]])
            #expect(events == Self.frames.map { .frame($0) }, "split at \(offset)")
        }
    }

    @Test func headerSplitInThree() {
        let frame = Frame(type: .ping, requestID: 7, payload: [1, 2, 3]).encoded()
        let events = Self.decodeAll([frame[0..<3], frame[3..<11], frame[11...]])
        #expect(events == [.frame(Frame(type: .ping, requestID: 7, payload: [1, 2, 3]))])
    }

    @Test func truncatedFrameWaitsAndIsNotAtBoundary() {
        let frame = Frame(type: .ping, requestID: 7, payload: [1, 2, 3, 4]).encoded()
        var decoder = FrameDecoder(maximumPayloadLength: 64)
        decoder.append(frame.dropLast())
        #expect(decoder.next() == nil)
        #expect(!decoder.isAtFrameBoundary)
        decoder.append(frame.suffix(1))
        #expect(decoder.next() == .frame(Frame(type: .ping, requestID: 7, payload: [1, 2, 3, 4])))
        #expect(decoder.isAtFrameBoundary)
    }

    @Test func oversizeLengthIsReportedAndSkippedWithoutStoring() {
        let big = Frame(type: .ping, requestID: 3, payload: [UInt8](repeating: 0x43, count: 1000)).encoded()
        let small = Frame(type: .ping, requestID: 4, payload: [9]).encoded()
        var decoder = FrameDecoder(maximumPayloadLength: 999)
        decoder.append(big.prefix(FrameHeader.size))
        guard case .payloadTooLarge(let header) = decoder.next() else {
            Issue.record("expected payloadTooLarge")
            return
        }
        #expect(header.payloadLength == 1000 && header.requestID == 3)
        // The payload arrives in pieces and is dropped as it comes.
        decoder.append(big[FrameHeader.size..<500])
        #expect(decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 0)
        decoder.append(big[500...] + small)
        #expect(decoder.next() == .frame(Frame(type: .ping, requestID: 4, payload: [9])))
    }

    @Test func maximumLengthIsAcceptedAndMaximumPlusOneIsNot() {
        let limit: UInt32 = 512
        let atLimit = Frame(type: .ping, requestID: 1, payload: [UInt8](repeating: 1, count: Int(limit)))
        let overLimit = Frame(type: .ping, requestID: 2, payload: [UInt8](repeating: 1, count: Int(limit) + 1))
        let events = Self.decodeAll([(atLimit.encoded() + overLimit.encoded())[...]], limit: limit)
        #expect(events.count == 2)
        #expect(events.first == .frame(atLimit))
        #expect(events.last == .payloadTooLarge(overLimit.header))
    }

    @Test func badMagicResynchronizesOnTheNextFrame() {
        let valid = Frame(type: .info, requestID: 5)
        // Garbage including a partial magic ("CRT" then a wrong byte) right before the real frame.
        let garbage: [UInt8] = [0x00, 0x43, 0x52, 0x54, 0x00, 0x43, 0x43, 0x52]
        let stream = garbage + valid.encoded()
        for offset in 0...stream.count {
            let events = Self.decodeAll([stream[0..<offset], stream[offset...]])
            #expect(events == [.garbage, .frame(valid)], "split at \(offset)")
        }
    }

    @Test func garbageIsReportedOncePerRun() {
        let valid = Frame(type: .info, requestID: 5).encoded()
        let chunks = ([UInt8](repeating: 0xEE, count: 100) + valid + [1, 2, 3] + valid).map { [$0][...] }
        let events = Self.decodeAll(chunks)
        #expect(events == [.garbage, .frame(Frame(type: .info, requestID: 5)), .garbage, .frame(Frame(type: .info, requestID: 5))])
    }

    @Test func unknownTypeIsStillFramed() {
        let odd = Frame(type: FrameType(0x42), requestID: 9, payload: [1, 2])
        #expect(Self.decodeAll([odd.encoded()[...]]) == [.frame(odd)])
    }

    @Test func unsupportedVersionSkipsPayload() {
        let v2 = Frame(type: .ping, requestID: 9, payload: [1, 2], version: 2)
        let next = Frame(type: .ping, requestID: 10)
        let events = Self.decodeAll([(v2.encoded() + next.encoded())[...]])
        #expect(events == [.unsupportedVersion(v2.header), .frame(next)])
    }

    /// A seeded random mutator over valid streams: the decoder never traps, always consumes what
    /// it is given, and never holds more than one frame's worth of bytes.
    @Test func seededMutationsNeverCrashOrHoard() {
        var generator = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<2000 {
            var bytes = Self.stream
            for _ in 0..<Int(generator.next() % 8) {
                let index = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                }
            }
            var decoder = FrameDecoder(maximumPayloadLength: 4096)
            var offset = 0
            while offset < bytes.count {
                let size = 1 + Int(generator.next() % 64)
                decoder.append(bytes[offset..<min(offset + size, bytes.count)])
                offset += size
                while decoder.next() != nil {}
                #expect(decoder.bufferedByteCount <= FrameHeader.size + 4096)
            }
        }
    }
}

/// A small deterministic random number generator for reproducible fuzzing.
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
