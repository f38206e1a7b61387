import CartridgeSystem
import Testing
@testable import CartridgeGadget
#if canImport(Glibc)
import Glibc
#endif

/// `EndpointAIO` (Linux AIO through the C shim) on a regular file, where requests complete at
/// once: several requests in flight, each reaped once with its byte count (`waitForCompletions`
/// and `finished`, as FunctionFSTransport's writer thread does). The
/// FunctionFS endpoints themselves are exercised in the VM (scripts/vm/run-usb-tests.sh).
@Suite struct EndpointAIOTests {
    /// Reaps until nothing is in flight; returns each slot's result.
    func reapAll(_ aio: EndpointAIO) throws -> [Int: Int] {
        var results: [Int: Int] = [:]
        while aio.inFlightCount > 0 {
            for (slot, result) in try aio.waitForCompletions() {
                #expect(results[slot] == nil, "slot \(slot) reaped twice")
                results[slot] = result
                aio.finished(slot)
                aio.release(slot)
            }
        }
        return results
    }

    /// Runs `body` with a descriptor of a fresh temporary file, closed and removed afterwards.
    func withTemporaryFile(_ body: (Int32) throws -> Void) throws {
        var template = Array("/tmp/cartridge-aio-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(descriptor >= 0)
        defer {
            close(descriptor)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        try body(descriptor)
    }

    @Test func writesAndReadsSeveralRequestsInFlight() throws {
        try withTemporaryFile { descriptor in
            let requestSize = 4096
            let writer = try EndpointAIO(descriptor: descriptor, depth: 3, requestSize: requestSize)
            // Three writes in flight. The shim submits every request at offset 0 (FunctionFS endpoints
            // have no offsets), so on a file they all land on the same block.
            var slots: [Int] = []
            for index in 0..<3 {
                let slot = try #require(writer.reserveSlot())
                writer.buffer(slot).initializeMemory(as: UInt8.self, repeating: UInt8(0x41 + index), count: requestSize)
                slots.append(slot)
            }
            #expect(writer.reserveSlot() == nil, "all three slots are reserved")
            for slot in slots { try writer.submit(slot: slot, length: requestSize - 1, isWrite: true) }
            #expect(writer.inFlightCount == 3)
            let written = try reapAll(writer)
            #expect(Set(written.keys) == Set(slots))
            #expect(written.values.allSatisfy { $0 == requestSize - 1 })
            #expect(writer.inFlightCount == 0)
            #expect(writer.hasFreeSlot, "reaped slots can be reserved again")
            writer.destroy()

            let reader = try EndpointAIO(descriptor: descriptor, depth: 2, requestSize: requestSize)
            let slot = try #require(reader.reserveSlot())
            try reader.submit(slot: slot, length: requestSize, isWrite: false)
            let read = try reapAll(reader)
            #expect(read == [slot: requestSize - 1])  // the file holds that one block
            let last = reader.buffer(slot).load(fromByteOffset: 0, as: UInt8.self)
            #expect([0x41, 0x42, 0x43].contains(last))
            #expect(reader.inFlightCount == 0)
        }
    }

    @Test func aFailedRequestReportsItsErrno() throws {
        let aio = try EndpointAIO(descriptor: -1, depth: 1, requestSize: 512)
        let slot = try #require(aio.reserveSlot())
        #expect(throws: SystemCallError.self) { try aio.submit(slot: slot, length: 512, isWrite: false) }
        aio.release(slot)
        #expect(aio.inFlightCount == 0)
    }

    /// `submitWrites`: several writes from the caller's memory in one io_submit, taken in order;
    /// the bytes are copied while they are submitted (as FunctionFS does), so the caller may
    /// overwrite them at once. Every request lands at offset 0 of the file, so the file ends up
    /// holding the last one, whatever the caller wrote afterwards.
    @Test func batchedWritesFromTheCallersMemory() throws {
        try withTemporaryFile { descriptor in
            let length = 3000
            let aio = try EndpointAIO(descriptor: descriptor, depth: 4, requestSize: 16)
            var source = [UInt8](repeating: 0x41, count: length) + [UInt8](repeating: 0x42, count: length) + [UInt8](repeating: 0x43, count: length)
            let slots = (0..<4).compactMap { _ in aio.reserveSlot() }
            try #require(slots.count == 4)
            let (submitted, error) = source.withUnsafeBytes { bytes in
                aio.submitWrites([
                    (slots[0], bytes.baseAddress!, length), (slots[1], bytes.baseAddress! + length, length),
                    (slots[2], nil, 0), (slots[3], bytes.baseAddress! + 2 * length, length),
                ])
            }
            #expect(submitted == 4)
            #expect(error == nil)
            for index in source.indices { source[index] = 0x5A }  // at once: the kernel has its copy
            #expect(aio.inFlightCount == 4)
            let results = try reapAll(aio)
            #expect(results == [slots[0]: length, slots[1]: length, slots[2]: 0, slots[3]: length])
            var back = [UInt8](repeating: 0, count: length + 1)
            let read = back.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length + 1, 0) }
            #expect(read == length)
            #expect(back.prefix(length).allSatisfy { $0 == 0x43 }, "the last request's bytes, not the overwritten source")
        }
    }

    @Test func aRefusedBatchReportsItsErrnoAndSubmitsNothing() throws {
        let aio = try EndpointAIO(descriptor: -1, depth: 2, requestSize: 16)
        let slots = (0..<2).compactMap { _ in aio.reserveSlot() }
        let bytes: [UInt8] = [1, 2, 3]
        let (submitted, error) = bytes.withUnsafeBytes { aio.submitWrites([(slots[0], $0.baseAddress!, 3), (slots[1], $0.baseAddress!, 3)]) }
        #expect(submitted == 0)
        #expect(error?.errno == EBADF)
        #expect(aio.inFlightCount == 0)
    }
}
