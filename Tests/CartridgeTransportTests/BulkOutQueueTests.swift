import CartridgeTransport
import Synchronization
import Testing

/// The coalescing and zero-length-packet rules of `BulkOutQueue` (docs/PROTOCOL.md §1.1), checked
/// against a model of a USB receiver and over the in-memory transport.
@Suite struct BulkOutQueueTests {
    /// A receiver as the USB bus sees it: bytes arrive in packets of at most `packetSize` (the
    /// transfers cut into packets, plus the zero-length packets asked for), and each posted read of
    /// `bufferSize` bytes completes when it is full or a short packet arrives. Returns the reads
    /// that completed and the bytes left in a read that never completes (stuck until more data).
    static func receive(_ transfers: [BulkTransfer], packetSize: Int, bufferSize: Int) -> (reads: [[UInt8]], stuck: Int) {
        var reads: [[UInt8]] = []
        var current: [UInt8] = []
        func packet(_ bytes: ArraySlice<UInt8>) {
            current += bytes
            if bytes.count < packetSize || current.count == bufferSize {
                reads.append(current)
                current = []
            }
        }
        for transfer in transfers {
            var offset = 0
            while offset < transfer.bytes.count {
                let count = min(packetSize, transfer.bytes.count - offset, bufferSize - current.count)
                packet(transfer.bytes[offset..<(offset + count)])
                offset += count
            }
            if transfer.needsZeroLengthPacket { packet([]) }
        }
        return (reads, current.count)
    }

    static func drain(_ queue: inout BulkOutQueue) -> [BulkTransfer] {
        var transfers: [BulkTransfer] = []
        while let transfer = queue.nextTransfer() { transfers.append(transfer) }
        return transfers
    }

    static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7) }
    }

    @Test(arguments: [1, 16, 511, 512, 513, 1024, 4096, 16_384, 65_536, 65_537])
    func oneMessageIsOneTransferWithAZeroLengthPacketOnlyAtAPacketMultiple(length: Int) {
        var queue = BulkOutQueue(packetSize: 512, maximumTransfer: 1024 * 1024)
        let message = Self.bytes(length, seed: length)
        queue.append(message)
        let transfers = Self.drain(&queue)
        #expect(transfers == [BulkTransfer(bytes: message, needsZeroLengthPacket: length % 512 == 0)])
        #expect(queue.isEmpty)
    }

    @Test func queuedFramesLeaveInOneTransfer() {
        var queue = BulkOutQueue(packetSize: 512, maximumTransfer: 1024 * 1024)
        let frames = [Self.bytes(40, seed: 1), Self.bytes(200, seed: 2), Self.bytes(30, seed: 3)]
        for frame in frames { queue.append(frame) }
        queue.append([])  // nothing to send: ignored
        #expect(queue.count == 270)
        let transfers = Self.drain(&queue)
        #expect(transfers == [BulkTransfer(bytes: frames.flatMap { $0 }, needsZeroLengthPacket: false)])
    }

    @Test func coalescedFramesThatEndOnAPacketBoundaryGetOneZeroLengthPacket() {
        // Neither frame is a packet multiple, together they are: the ZLP follows the transfer.
        var queue = BulkOutQueue(packetSize: 512, maximumTransfer: 1024 * 1024)
        queue.append(Self.bytes(200, seed: 1))
        queue.append(Self.bytes(824, seed: 2))
        let transfers = Self.drain(&queue)
        #expect(transfers.count == 1)
        #expect(transfers.first?.bytes.count == 1024)
        #expect(transfers.first?.needsZeroLengthPacket == true)
    }

    @Test func longRunsAreCutAtTheMaximumWithoutZeroLengthPacketsInside() {
        var queue = BulkOutQueue(packetSize: 512, maximumTransfer: 1000)  // rounded down to 512
        #expect(queue.maximumTransfer == 512)
        let message = Self.bytes(512 * 3, seed: 9)
        queue.append(message)
        let transfers = Self.drain(&queue)
        #expect(transfers.map(\.bytes.count) == [512, 512, 512])
        #expect(transfers.map(\.needsZeroLengthPacket) == [false, false, true])
        #expect(transfers.flatMap(\.bytes) == message)
    }

    @Test func framesSplitAcrossTransfersKeepTheirBytesInOrder() {
        var queue = BulkOutQueue(packetSize: 64, maximumTransfer: 1024)
        let frames = (0..<10).map { Self.bytes(300 + $0 * 37, seed: $0) }
        for frame in frames { queue.append(frame) }
        let transfers = Self.drain(&queue)
        #expect(transfers.dropLast().allSatisfy { $0.bytes.count == 1024 && !$0.needsZeroLengthPacket })
        #expect(transfers.flatMap(\.bytes) == frames.flatMap { $0 })
    }

    /// Whatever the run of transfers, a receiver that posted 64 KiB buffers gets every byte: no
    /// read waits for data that will never come. Without the zero-length packets it would.
    @Test(arguments: [[512], [16_384], [65_536], [65_536, 65_536], [100, 412], [1_048_576], [700, 300, 24, 512 * 7], [64 * 1024 * 3 + 5]])
    func aReceiverWithLargerBuffersNeverWaitsForBytesThatWereSent(lengths: [Int]) {
        var queue = BulkOutQueue(packetSize: 512, maximumTransfer: 1024 * 1024)
        for (index, length) in lengths.enumerated() { queue.append(Self.bytes(length, seed: index)) }
        let transfers = Self.drain(&queue)
        let received = Self.receive(transfers, packetSize: 512, bufferSize: 65_536)
        #expect(received.stuck == 0)
        #expect(received.reads.flatMap { $0 } == transfers.flatMap(\.bytes))

        let total = lengths.reduce(0, +)
        let withoutZeroLengthPackets = transfers.map { BulkTransfer(bytes: $0.bytes, needsZeroLengthPacket: false) }
        let broken = Self.receive(withoutZeroLengthPackets, packetSize: 512, bufferSize: 65_536)
        if total % 512 == 0 && total % 65_536 != 0 {
            #expect(broken.stuck > 0, "the zero-length packet is what ends the last read")
        }
    }

    @Test func removeAllDropsWhatIsQueued() {
        var queue = BulkOutQueue(packetSize: 512, maximumTransfer: 4096)
        queue.append(Self.bytes(5000, seed: 1))
        _ = queue.nextTransfer()
        queue.removeAll()
        #expect(queue.isEmpty)
        #expect(queue.nextTransfer() == nil)
        queue.append([1, 2, 3])
        #expect(queue.nextTransfer() == BulkTransfer(bytes: [1, 2, 3], needsZeroLengthPacket: false))
    }

    /// Frames of three interleaved streams, queued by concurrent senders while transfers are taken,
    /// carried as transfers over the in-memory transport and decoded on the other side: every frame
    /// arrives whole, each stream's frames in order, whatever the transfer boundaries.
    @Test func interleavedStreamsCrossTheInMemoryTransportIntact() async throws {
        struct Frame: Equatable { var stream: UInt8; var sequence: UInt16; var payload: [UInt8] }
        func encode(_ frame: Frame) -> [UInt8] {
            let length = UInt16(frame.payload.count)
            return [frame.stream, UInt8(frame.sequence & 0xFF), UInt8(frame.sequence >> 8), UInt8(length & 0xFF), UInt8(length >> 8)]
                + frame.payload
        }
        let (host, device) = InMemoryTransport.makePair(capacity: 4096)
        let queue = QueueBox(BulkOutQueue(packetSize: 512, maximumTransfer: 2048))
        let perStream = 60
        // Stream s sends frames whose payload sizes cycle through packet-edge cases.
        let sizes = [0, 1, 11, 507, 508, 509, 1019, 2043, 3000]
        let decoded = Task { () throws -> [Frame] in
            var frames: [Frame] = []
            var buffer: [UInt8] = []
            while frames.count < 3 * perStream {
                let chunk = try await host.receive(maximumCount: 65_536)
                if chunk.isEmpty { break }
                buffer += chunk
                while buffer.count >= 5 {
                    let length = Int(buffer[3]) | Int(buffer[4]) << 8
                    guard buffer.count >= 5 + length else { break }
                    frames.append(Frame(stream: buffer[0], sequence: UInt16(buffer[1]) | UInt16(buffer[2]) << 8, payload: Array(buffer[5..<(5 + length)])))
                    buffer.removeFirst(5 + length)
                }
            }
            return frames
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for stream in UInt8(1)...3 {
                group.addTask {
                    for sequence in 0..<perStream {
                        let size = sizes[(sequence + Int(stream)) % sizes.count]
                        queue.append(encode(Frame(stream: stream, sequence: UInt16(sequence), payload: Self.bytes(size, seed: sequence))))
                        await Task.yield()
                    }
                }
            }
            // The writer: whatever is queued leaves as transfers, while the senders keep adding.
            group.addTask {
                var transfers = 0
                while true {
                    // One look at the queue under its lock: a frame appended between a separate
                    // "nothing queued" and "all appended" check would be left behind (and the
                    // decoder would wait for it forever).
                    switch queue.next(whenAllAppended: 3 * perStream) {
                    case .transfer(let transfer):
                        try await device.send(transfer.bytes)
                        transfers += 1
                        #expect(transfer.bytes.count <= 2048)
                        continue
                    case .finished:
                        break
                    case .waiting:
                        await Task.yield()
                        continue
                    }
                    break
                }
                #expect(transfers > 1)
            }
            try await group.waitForAll()
        }
        let frames = try await decoded.value
        #expect(frames.count == 3 * perStream)
        for stream in UInt8(1)...3 {
            let mine = frames.filter { $0.stream == stream }
            #expect(mine.map(\.sequence) == (0..<perStream).map { UInt16($0) })
            #expect(mine.allSatisfy { $0.payload == Self.bytes($0.payload.count, seed: Int($0.sequence)) })
        }
        host.close()
        device.close()
    }
}

/// A `BulkOutQueue` shared by the test's tasks.
private final class QueueBox: Sendable {
    private let state: Mutex<(queue: BulkOutQueue, appended: Int)>
    init(_ queue: BulkOutQueue) { state = Mutex((queue, 0)) }
    func append(_ bytes: [UInt8]) { state.withLock { $0.queue.append(bytes); $0.appended += 1 } }
    enum Next { case transfer(BulkTransfer), waiting, finished }
    /// The next transfer, or `finished` once `total` frames were appended and all of them taken.
    func next(whenAllAppended total: Int) -> Next {
        state.withLock {
            if let transfer = $0.queue.nextTransfer() { return .transfer(transfer) }
            return $0.appended >= total ? .finished : .waiting
        }
    }
}
