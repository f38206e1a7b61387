import Testing
@testable import CartridgeUSBHost

/// libusb's event thread as the executor a receive loop prefers (`preferredTaskExecutor`).
@Suite("libusb event thread as a task executor", .timeLimit(.minutes(1)))
struct LibUSBEventExecutorTests {
    static func makeInstance() -> LibUSBInstance? {
        do {
            return try LibUSBInstance()
        } catch {
            print("skipped: libusb_init failed on this machine: \(error)")
            return nil
        }
    }

    @Test func aTaskThatPrefersTheEventThreadRunsAndResumesThere() async throws {
        guard let instance = Self.makeInstance() else { return }
        let events = instance.events
        let onEventThread = await withTaskExecutorPreference(events) { () async -> [Bool] in
            var seen = [events.isCurrentThread]
            for _ in 0..<20 {
                try? await Task.sleep(for: .milliseconds(1))  // each resumption is a job on the executor
                seen.append(events.isCurrentThread)
            }
            await Task.yield()
            seen.append(events.isCurrentThread)
            return seen
        }
        #expect(onEventThread == Array(repeating: true, count: 22))
        #expect(!events.isCurrentThread, "the preference ended with its scope")
        withExtendedLifetime(instance) {}
    }

    @Test func afterTheContextIsReleasedItsJobsRunOnTheGlobalExecutor() async throws {
        guard let instance = Self.makeInstance() else { return }
        let events = instance.events
        _ = consume instance  // deinit: the thread stops, calls libusb_exit and is joined
        let ran = await withTaskExecutorPreference(events) { () async -> Bool in
            try? await Task.sleep(for: .milliseconds(1))
            return !events.isCurrentThread
        }
        #expect(ran, "the job ran (elsewhere) instead of waiting for a thread that ended")
    }
}
