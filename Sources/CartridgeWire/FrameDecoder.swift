/// A streaming frame decoder: feed it bytes in pieces of any size (one byte, a header split in
/// two, several frames at once), then pull events until it returns nil ("need more bytes").
///
/// It checks magic, version and the length limit from the header alone, before it allocates a
/// payload. Per docs/PROTOCOL.md:
/// - bad magic: the bytes are garbage; the decoder reports `.garbage` once per run of garbage and
///   discards bytes until the next magic (resynchronization);
/// - unsupported version or oversize length: reported, then the declared payload is skipped as it
///   arrives, without being stored.
public struct FrameDecoder: Sendable {
    public enum Event: Hashable, Sendable {
        case frame(Frame)
        /// Bytes that do not start with the magic were found; they are being discarded up to the
        /// next magic. Reported once per run of garbage.
        case garbage
        /// The header's version is not one this decoder speaks; its payload is skipped.
        case unsupportedVersion(FrameHeader)
        /// The header's payload length exceeds `maximumPayloadLength`; its payload is skipped.
        case payloadTooLarge(FrameHeader)
    }

    private enum State: Hashable, Sendable {
        case header
        case payload(FrameHeader)
        case skipping(remaining: UInt64)
        case resynchronizing
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.header
    /// Frames with a longer payload are refused (the limit negotiated by HELLO).
    public var maximumPayloadLength: UInt32
    /// Header versions accepted.
    public var supportedVersions: ClosedRange<UInt8>

    public init(maximumPayloadLength: UInt32, supportedVersions: ClosedRange<UInt8> = 1...1) {
        self.maximumPayloadLength = maximumPayloadLength
        self.supportedVersions = supportedVersions
    }

    /// Bytes received but not yet consumed by an event.
    public var bufferedByteCount: Int { buffer.count - start }

    /// True while the decoder sits at a frame boundary with nothing buffered (used to detect a
    /// truncated frame at end of stream).
    public var isAtFrameBoundary: Bool { state == .header && bufferedByteCount == 0 }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start >= 65536 && start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() -> Event? {
        while true {
            switch state {
            case .header:
                guard bufferedByteCount >= 4 else {
                    if bufferedByteCount > 0 && !matchesMagicPrefix(at: start) {
                        start += 1
                        state = .resynchronizing
                        return .garbage
                    }
                    return nil
                }
                guard matchesMagicPrefix(at: start) else {
                    start += 1
                    state = .resynchronizing
                    return .garbage
                }
                guard bufferedByteCount >= FrameHeader.size else { return nil }
                let header = FrameHeader.parse(buffer, at: start)
                start += FrameHeader.size
                if !supportedVersions.contains(header.version) {
                    state = .skipping(remaining: UInt64(header.payloadLength))
                    return .unsupportedVersion(header)
                }
                if header.payloadLength > maximumPayloadLength {
                    state = .skipping(remaining: UInt64(header.payloadLength))
                    return .payloadTooLarge(header)
                }
                state = .payload(header)
            case .payload(let header):
                let length = Int(header.payloadLength)
                guard bufferedByteCount >= length else { return nil }
                let payload = Array(buffer[start..<(start + length)])
                start += length
                state = .header
                return .frame(
                    Frame(
                        type: header.type, flags: header.flags, requestID: header.requestID, payload: payload,
                        version: header.version))
            case .skipping(let remaining):
                let count = min(UInt64(bufferedByteCount), remaining)
                start += Int(count)
                if count == remaining {
                    state = .header
                } else {
                    state = .skipping(remaining: remaining - count)
                    return nil
                }
            case .resynchronizing:
                // Discard bytes until the buffer starts with the magic (or, at its end, a prefix of it).
                while start < buffer.count && !matchesMagicPrefix(at: start) {
                    start += 1
                }
                guard bufferedByteCount >= 4 else { return nil }
                state = .header
            }
        }
    }

    /// Whether the bytes from `offset` match the magic as far as they go.
    private func matchesMagicPrefix(at offset: Int) -> Bool {
        let available = min(4, buffer.count - offset)
        for index in 0..<available where buffer[offset + index] != FrameHeader.magicBytes[index] {
            return false
        }
        return true
    }
}
