import CartridgeTransport
import CartridgeWire
import Synchronization

/// A raw protocol connection for the conformance runner: writes bytes exactly as the script
/// says, and collects every frame the device sends (in the background) so that steps can wait
/// for the frame of one request id while frames of others pile up.
final class FrameConnection: Sendable {
    private struct State {
        var decoder = FrameDecoder(maximumPayloadLength: 64 << 20)
        var frames: [Frame] = []
        var ended: String?
        var invalid: String?
    }

    /// The state shared with the pump task.
    private final class Inbox: Sendable {
        let state = Mutex(State())
    }

    let transport: any CartridgeTransport
    private let inbox = Inbox()
    private let pump: Task<Void, Never>

    init(transport: any CartridgeTransport) {
        self.transport = transport
        let inbox = self.inbox
        pump = Task {
            while true {
                let bytes: [UInt8]
                do {
                    bytes = try await transport.receive(maximumCount: 256 * 1024)
                } catch {
                    let reason = (error as? TransportError).map { "\($0.code)" } ?? "\(error)"
                    inbox.state.withLock { $0.ended = reason }
                    return
                }
                if bytes.isEmpty {
                    inbox.state.withLock { $0.ended = "closed by the device" }
                    return
                }
                inbox.state.withLock { state in
                    state.decoder.append(bytes)
                    while let event = state.decoder.next() {
                        if case .frame(let frame) = event {
                            state.frames.append(frame)
                        } else {
                            state.invalid = "the device sent bytes that are not a valid frame: \(event)"
                        }
                    }
                }
            }
        }
    }

    func send(_ bytes: [UInt8], split: Int?) async throws(TransportError) {
        guard let split, split > 0 else {
            try await transport.send(bytes)
            return
        }
        var offset = 0
        while offset < bytes.count {
            try await transport.send(Array(bytes[offset..<min(offset + split, bytes.count)]))
            offset += split
            try? await Task.sleep(for: .milliseconds(2))  // separate writes, separate reads
        }
    }

    /// Removes and returns the first frame matching `predicate`, waiting up to `timeout`.
    func next(timeout: Duration, where predicate: @Sendable (Frame) -> Bool) async -> Result<Frame, FrameWaitFailure> {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let outcome: Result<Frame, FrameWaitFailure>? = inbox.state.withLock { state in
                if let invalid = state.invalid { return .failure(.invalidBytes(invalid)) }
                if let index = state.frames.firstIndex(where: predicate) { return .success(state.frames.remove(at: index)) }
                if let ended = state.ended { return .failure(.ended(ended)) }
                return nil
            }
            if let outcome { return outcome }
            if clock.now >= deadline { return .failure(.timedOut(pending: inbox.state.withLock { $0.frames })) }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    var pendingFrames: [Frame] { inbox.state.withLock { $0.frames } }
    var endReason: String? { inbox.state.withLock { $0.ended } }

    func close() async {
        transport.close()
        await pump.value
    }
}

enum FrameWaitFailure: Error {
    case timedOut(pending: [Frame])
    case ended(String)
    case invalidBytes(String)

    var description: String {
        switch self {
        case .timedOut(let pending):
            let others = pending.prefix(3).map(MessageFields.summary).joined(separator: "; ")
            return "nothing matching arrived in time" + (pending.isEmpty ? "" : " (pending: \(others))")
        case .ended(let reason): return "the connection ended: \(reason)"
        case .invalidBytes(let text): return text
        }
    }
}
