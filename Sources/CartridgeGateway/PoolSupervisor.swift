import CartridgeClient
import CartridgeUSBHost
import CartridgeWire
import Logging
import Synchronization

/// Keeps the pool filled: connects to each configured cartridge (and reconnects when it comes
/// back), follows the bus scanner (USB: a stick plugged in joins, an unplugged one leaves; each
/// stick is keyed by its bus/port path, so sticks burned from the same image, which share a
/// serial, are served side by side), checks each member's health every `healthInterval`, records
/// power status, and ticks the pool's queue.
struct PoolSupervisor: Sendable {
    let pool: CartridgePool
    let sources: [CartridgeURI]
    /// Finds plugged-in cartridges (USB); nil: only `sources`.
    let scanner: (any CartridgeScanner)?
    let metrics: GatewayMetrics
    let logger: Logger
    var healthInterval: Duration = .milliseconds(500)
    var reconnectDelay: Duration = .milliseconds(250)
    var usbScanInterval: Duration = .milliseconds(500)

    /// Runs until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Ticks only while requests wait (BUSY back-off ends, queue timeouts).
                for await _ in pool.queueActivity {
                    while !Task.isCancelled, pool.queueDepth > 0 {
                        try? await Task.sleep(for: .milliseconds(50))
                        pool.tick()
                    }
                }
            }
            for source in sources {
                group.addTask { await supervise(source) }
            }
            if let scanner {
                group.addTask { await follow(scanner) }
            }
        }
    }

    /// One configured cartridge: connect, serve until the connection breaks, reconnect.
    private func supervise(_ uri: CartridgeURI) async {
        var delay = reconnectDelay
        var reported = false
        while !Task.isCancelled {
            do {
                try await serve(uri)
                delay = reconnectDelay
                reported = false
            } catch {
                if !reported {
                    logger.info("cartridge not reachable; retrying", metadata: ["cartridge": "\(uri)", "error": "\(error)"])
                    reported = true
                }
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
    }

    /// Connects, joins the pool, and returns when the cartridge is gone. `joined` gets the member id.
    private func serve(_ uri: CartridgeURI, joined: (Int) -> Void = { _ in }) async throws {
        let connection = try await CartridgeConnection.connect(to: uri, clientName: "cartridge-gateway")
        let card: ModelCard
        do { card = try await connection.info() } catch {
            connection.close()
            throw error
        }
        let id = pool.add(connection: connection, card: card, source: uri.description)
        joined(id)
        await watch(id, connection: connection, source: uri.description)
        pool.remove(id, reason: "health check failed")
    }

    /// Returns when the member left the pool or stopped answering PING.
    private func watch(_ id: Int, connection: CartridgeConnection, source: String) async {
        await withTaskGroup(of: Void.self) { group in
            if connection.hello.capabilities.contains(.power) {
                group.addTask { await recordPower(connection, source: source) }
            }
            group.addTask {
                while !Task.isCancelled, pool.contains(id) {
                    try? await Task.sleep(for: healthInterval)
                    guard pool.contains(id) else { return }
                    do { _ = try await connection.ping() } catch {
                        if Task.isCancelled { return }
                        logger.info("cartridge stopped answering", metadata: ["cartridge": "\(source)", "error": "\(error)"])
                        return
                    }
                }
            }
            // Whichever ends first (health failure), the other is cancelled.
            await group.next()
            group.cancelAll()
        }
    }

    private func recordPower(_ connection: CartridgeConnection, source: String) async {
        do {
            for try await status in try await connection.powerUpdates() {
                metrics.power(
                    cartridge: source, budgetMilliwatts: status.budgetMilliwatts, workerCount: status.workerCount,
                    tokensPerSecondCap: status.tokensPerSecondCap, estimatedDrawMilliwatts: status.estimatedDrawMilliwatts)
            }
        } catch {
            // The connection ended; the health check reports it.
        }
        // Power ends only with the connection (or cancellation): keep the health check running.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Plugged-in cartridges: a scan every `usbScanInterval` finds the ones plugged in (for USB
    /// it works without udevd, unlike libusb hotplug arrivals); each location is opened once and
    /// served until it leaves (its connection breaks, or a departure removes it).
    func follow(_ scanner: any CartridgeScanner) async {
        let active = ServedLocations()
        await withDiscardingTaskGroup { group in
            // Departures at once where the bus reports them (udevd); the health check notices
            // them within `healthInterval` anyway.
            if let departures = scanner.departures() {
                group.addTask {
                    for await location in departures {
                        for id in active.members(at: location) { pool.remove(id, reason: "unplugged") }
                    }
                }
            }
            while !Task.isCancelled {
                for found in await scanner.scan() where active.insert(found.location) {
                    group.addTask {
                        await serveArrival(found, active: active)
                        active.remove(found.location)
                    }
                }
                try? await Task.sleep(for: usbScanInterval)
            }
        }
    }

    /// A plugged-in cartridge: a few attempts while udev and the device settle, then served until gone.
    private func serveArrival(_ found: ScannedCartridge, active: ServedLocations) async {
        for attempt in 0..<10 {
            do {
                try await serve(found.uri) { id in active.joined(found.location, member: id) }
                return
            } catch {
                if attempt == 9 {
                    logger.info("cannot open the plugged-in cartridge", metadata: ["cartridge": "\(found.uri)", "serial": "\(found.serial ?? "?")", "error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// Bus locations being served (or being opened), so a scan does not open a cartridge twice, and
/// the pool member serving each.
private final class ServedLocations: Sendable {
    private let state = Mutex<[String: Int?]>([:])

    /// False if `location` is already there.
    func insert(_ location: String) -> Bool {
        state.withLock { served in
            guard served[location] == nil else { return false }
            served[location] = .some(nil)
            return true
        }
    }

    func joined(_ location: String, member id: Int) { state.withLock { $0[location] = id } }
    func remove(_ location: String) { _ = state.withLock { $0.removeValue(forKey: location) } }
    func members(at location: String) -> [Int] { state.withLock { $0[location].flatMap { $0 }.map { [$0] } ?? [] } }
}
