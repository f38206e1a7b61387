import CartridgeInference
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The fork-join pool every forward pass splits its products with: each index covered exactly
/// once, whoever runs it, also when helpers have parked, the power knob changes between jobs, or
/// two threads submit at once.
@Suite("WorkerPool: every worker index and every item exactly once")
struct WorkerPoolTests {
    /// Counts per item, written from several threads.
    final class Tally: @unchecked Sendable {
        let counts: UnsafeMutablePointer<Atomic<Int>>
        let size: Int
        init(size: Int) {
            self.size = size
            counts = .allocate(capacity: size)
            for i in 0..<size { (counts + i).initialize(to: Atomic(0)) }
        }
        deinit { counts.deallocate() }
        func add(_ i: Int) { counts[i].add(1, ordering: .relaxed) }
        func value(_ i: Int) -> Int { counts[i].load(ordering: .relaxed) }
        func reset() { for i in 0..<size { counts[i].store(0, ordering: .relaxed) } }
        var all: [Int] { (0..<size).map(value) }
    }

    @Test("parallelFor covers 0..<count once, in whole grains, for small and large jobs",
          arguments: [(1, 1), (7, 1), (64, 8), (576, 8), (960, 8), (1001, 8), (49152, 16), (5, 4)])
    func parallelForCoversEveryItemOnce(count: Int, grain: Int) {
        let pool = WorkerPool(maximumWorkers: 2)
        let tally = Tally(size: count)
        for cost in [1, 4 * 576, Int.max] {
            tally.reset()
            let ranges = Mutex<[Range<Int>]>([])
            pool.parallelFor(count, grain: grain, costPerItem: cost) { range in
                ranges.withLock { $0.append(range) }
                for i in range { tally.add(i) }
            }
            #expect(tally.all.allSatisfy { $0 == 1 }, "count \(count) grain \(grain) cost \(cost): items not covered exactly once")
            let sorted = ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            for range in sorted.dropLast() {
                #expect(range.count % grain == 0, "slice \(range) is not whole grains of \(grain)")
            }
        }
    }

    @Test("slicesPerWorker bounds the slices: one per worker when asked")
    func slicesPerWorkerBoundsSlices() {
        let pool = WorkerPool(maximumWorkers: 2)
        for (perWorker, bound) in [(1, 2), (4, 8)] {
            let ranges = Mutex<[Range<Int>]>([])
            pool.parallelFor(4096, grain: 4, slicesPerWorker: perWorker) { range in ranges.withLock { $0.append(range) } }
            let all = ranges.withLock { $0 }
            #expect(all.count <= bound && all.count >= 2, "\(all.count) slices with slicesPerWorker \(perWorker)")
            #expect(all.reduce(0) { $0 + $1.count } == 4096)
        }
    }

    @Test("run calls every worker index exactly once per job, 20,000 jobs back to back")
    func runCallsEveryIndexOnce() {
        let pool = WorkerPool(maximumWorkers: 2)
        let tally = Tally(size: 2)
        let jobs = 20_000
        for _ in 0..<jobs {
            pool.run { worker, workers in
                precondition(workers == 2)
                tally.add(worker)
            }
        }
        #expect(tally.all == [jobs, jobs])
    }

    /// Helpers park after about 200 µs idle; the next job must still run every index (the caller
    /// takes what a parked helper has not claimed) and must not wait for the wake-up.
    @Test("jobs after an idle gap (parked helpers) still run every index once")
    func jobsAfterParkingRunEveryIndex() {
        let pool = WorkerPool(maximumWorkers: 2)
        let tally = Tally(size: 2)
        for round in 0..<200 {
            if round % 4 == 0 { usleep(1_000) }
            pool.run { worker, _ in tally.add(worker) }
        }
        #expect(tally.all == [200, 200])
        let items = Tally(size: 4096)
        for round in 0..<50 {
            if round % 2 == 0 { usleep(500) }
            pool.parallelFor(4096, grain: 8) { range in for i in range { items.add(i) } }
        }
        #expect(items.all.allSatisfy { $0 == 50 })
    }

    @Test("the power knob (activeWorkers) applies from the next job")
    func activeWorkersAppliesToNextJob() {
        let pool = WorkerPool(maximumWorkers: 2)
        for workers in [1, 2, 1, 2] {
            pool.activeWorkers = workers
            let seen = Mutex<[Int]>([])
            pool.run { worker, count in
                #expect(count == workers)
                seen.withLock { $0.append(worker) }
            }
            #expect(seen.withLock { $0.sorted() } == Array(0..<workers))
        }
    }

    @Test("two threads submitting at once: each job runs all its indices")
    func concurrentSubmitters() async {
        let pool = WorkerPool(maximumWorkers: 2)
        let first = Tally(size: 1024), second = Tally(size: 1024)
        await withTaskGroup(of: Void.self) { group in
            for tally in [first, second] {
                group.addTask {
                    for _ in 0..<200 {
                        pool.parallelFor(1024, grain: 8) { range in for i in range { tally.add(i) } }
                    }
                }
            }
        }
        #expect(first.all.allSatisfy { $0 == 200 } && second.all.allSatisfy { $0 == 200 })
    }
}
