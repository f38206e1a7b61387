import Synchronization

/// One direction of an in-memory pipe: a bounded byte buffer with one waiting reader and one
/// waiting writer at most. Writers suspend while the buffer is full, like a socket.
final class InMemoryByteChannel: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var readOffset = 0
        var writerClosed = false
        var readerClosed = false
        var brokenLink = false
        var waitingReader: CheckedContinuation<Void, Never>?
        var waitingWriter: CheckedContinuation<Void, Never>?
        var buffered: Int { buffer.count - readOffset }
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        while true {
            enum Step { case data([UInt8]), endOfStream, closed, broken, wait }
            let step: Step = state.withLock { state in
                if state.readerClosed { return .closed }
                if state.buffered > 0 {
                    let count = min(maximumCount, state.buffered)
                    let chunk = Array(state.buffer[state.readOffset..<(state.readOffset + count)])
                    state.readOffset += count
                    if state.readOffset == state.buffer.count {
                        state.buffer.removeAll(keepingCapacity: true)
                        state.readOffset = 0
                    }
                    if let writer = state.waitingWriter {
                        state.waitingWriter = nil
                        writer.resume()
                    }
                    return .data(chunk)
                }
                if state.brokenLink { return .broken }
                if state.writerClosed { return .endOfStream }
                return .wait
            }
            switch step {
            case .data(let chunk): return chunk
            case .endOfStream: return []
            case .closed: throw TransportError(.closed, "in-memory transport closed")
            case .broken: throw TransportError(.disconnected, "in-memory link broken")
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.buffered > 0 || state.writerClosed || state.readerClosed || state.brokenLink {
                            return true
                        }
                        state.waitingReader = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    func send(_ bytes: [UInt8]) async throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            enum Step { case progressed, closed, broken, wait }
            let step: Step = state.withLock { state in
                if state.writerClosed { return .closed }
                if state.readerClosed || state.brokenLink { return .broken }
                let room = capacity - state.buffered
                if room <= 0 { return .wait }
                let count = min(room, bytes.count - offset)
                state.buffer.append(contentsOf: bytes[offset..<(offset + count)])
                offset += count
                if let reader = state.waitingReader {
                    state.waitingReader = nil
                    reader.resume()
                }
                return .progressed
            }
            switch step {
            case .progressed: continue
            case .closed: throw TransportError(.closed, "in-memory transport closed")
            case .broken: throw TransportError(.disconnected, "in-memory peer went away")
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.buffered < capacity || state.writerClosed || state.readerClosed || state.brokenLink {
                            return true
                        }
                        state.waitingWriter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// The writing side finished in an orderly way: the reader drains the buffer, then sees end of stream.
    func closeWriter() { wake { $0.writerClosed = true } }

    /// The reading side is gone: writers fail with `.disconnected`, reads with `.closed`.
    func closeReader() { wake { $0.readerClosed = true } }

    /// The link broke (simulated unplug): both sides fail with `.disconnected`.
    func breakLink() { wake { $0.brokenLink = true } }

    private func wake(_ change: (inout State) -> Void) {
        let (reader, writer) = state.withLock { state in
            change(&state)
            defer { state.waitingReader = nil; state.waitingWriter = nil }
            return (state.waitingReader, state.waitingWriter)
        }
        reader?.resume()
        writer?.resume()
    }
}
