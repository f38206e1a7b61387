import Synchronization

/// Device-wide limit on concurrent generations (each holds a KV cache and shares the cores).
/// A request beyond the limit is answered BUSY instead of queued without bound.
final class GenerationSlots: Sendable {
    private let inUse = Mutex(0)
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func tryAcquire() -> Bool {
        inUse.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
    }

    func release() { inUse.withLock { $0 -= 1 } }
}

/// Gives one acquired slot back exactly once, whoever calls first.
final class SlotRelease: Sendable {
    private let slots: GenerationSlots
    private let released = Atomic<Bool>(false)

    init(_ slots: GenerationSlots) { self.slots = slots }

    func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { slots.release() }
    }
}
