/// Collects a stream's server-sent events and hands them to the HTTP body writer in batches.
///
/// Every hand-off costs thread wake-ups (the writer task, the event loop, the socket write), which
/// on a fast model cost more than the token itself. So the producer reads on while events have
/// already arrived, and writes at most once per `interval`: a batch goes out at once when the last
/// one left at least `interval` ago, otherwise at the end of the interval together with what
/// arrived meanwhile. A cartridge slower than one token per `interval` gets every token written
/// the moment it arrives; a faster one gets its tokens at most `interval` late, several per HTTP
/// chunk (and the end of a stream is written within a fifth of the interval of its arrival). An
/// interval of zero writes every event alone.
struct EventBatcher {
    private let output: AsyncStream<[UInt8]>.Continuation
    let interval: Duration
    private var pending: [UInt8] = []
    private var lastFlush: ContinuousClock.Instant?

    init(output: AsyncStream<[UInt8]>.Continuation, interval: Duration) {
        self.output = output
        self.interval = interval
        pending.reserveCapacity(4096)
    }

    mutating func append(_ event: [UInt8]) {
        pending.append(contentsOf: event)
    }

    /// When the next batch may go out; nil: now.
    var due: ContinuousClock.Instant? {
        guard let lastFlush, interval > .zero else { return nil }
        let due = lastFlush + interval
        return due > .now ? due : nil
    }

    /// Hands what is pending to the writer.
    mutating func flush() {
        guard !pending.isEmpty else { return }
        output.yield(pending)
        pending.removeAll(keepingCapacity: true)
        lastFlush = .now
    }

    /// The source has nothing more right now: flushes, or, within `interval` of the last flush,
    /// waits for the rest of the interval first, in slices of a fifth of it (at least 1 ms).
    /// Returns false after a slice in which `moreArrived` says events came in (read them, then
    /// call again: so the end of a stream is written at most a slice after it arrives, not at
    /// the end of the interval); true once flushed.
    mutating func caughtUp(moreArrived: () -> Bool) async throws -> Bool {
        let slice = max(interval / 5, .milliseconds(1))
        while let due {
            try await Task.sleep(until: min(due, .now + slice), clock: .continuous)
            if moreArrived() { return false }
        }
        flush()
        return true
    }
}
