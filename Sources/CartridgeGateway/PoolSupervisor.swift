import CartridgeClient
import CartridgeUSBHost
import CartridgeWire
import Logging
import Synchronization

/// Keeps the pool filled: connects to each configured cartridge (and reconnects when it comes
/// back), follows USB hotplug (a stick plugged in joins, an unplugged one leaves), checks each
/// member's health every `healthInterval`, records power status, and ticks the pool's queue.
struct PoolSupervisor: Sendable {
    let pool: CartridgePool
    let sources: [CartridgeURI]
    let usbDiscovery: Bool
    let metrics: GatewayMetrics
    let logger: Logger
    var healthInterval: Duration = .milliseconds(500)
    var reconnectDelay: Duration = .milliseconds(250)
    var usbScanInterval: Duration = .milliseconds(500)

    /// Runs until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    pool.tick()
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            for source in sources {
                group.addTask { await supervise(source) }
            }
            if usbDiscovery {
                group.addTask { await followHotplug() }
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

    /// Connects, joins the pool, and returns when the cartridge is gone.
    private func serve(_ uri: CartridgeURI) async throws {
        let connection = try await CartridgeConnection.connect(to: uri, clientName: "cartridge-gateway")
        let card: ModelCard
        do { card = try await connection.info() } catch {
            connection.close()
            throw error
        }
        let id = pool.add(connection: connection, card: card, source: uri.description)
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

    /// USB cartridges: a scan of the bus every `usbScanInterval` finds cartridges plugged in (it
    /// works without udevd, unlike libusb hotplug arrivals); each is served until it leaves (its
    /// connection breaks, or a hotplug departure event removes it).
    private func followHotplug() async {
        let context = LibUSBContext()
        let active = ServedSerials()
        await withDiscardingTaskGroup { group in
            // Departures at once from hotplug events (where udevd runs); the health check
            // notices them within `healthInterval` anyway.
            if let events = try? context.hotplugEvents() {
                group.addTask {
                    for await event in events where !event.isArrival {
                        guard let serial = event.device.serialNumber else { continue }
                        for id in pool.members(from: CartridgeURI.usb(serial: serial).description) { pool.remove(id, reason: "unplugged") }
                    }
                }
            }
            while !Task.isCancelled {
                let found = (try? await context.cartridges()) ?? []
                for device in found where device.problem == nil {
                    guard let serial = device.serialNumber, active.insert(serial) else { continue }
                    let uri = CartridgeURI.usb(serial: serial)
                    group.addTask {
                        await serveArrival(uri)
                        active.remove(serial)
                    }
                }
                try? await Task.sleep(for: usbScanInterval)
            }
        }
    }

    /// A plugged-in cartridge: a few attempts while udev and the device settle, then served until gone.
    private func serveArrival(_ uri: CartridgeURI) async {
        for attempt in 0..<10 {
            do {
                try await serve(uri)
                return
            } catch {
                if attempt == 9 { logger.info("cannot open the plugged-in cartridge", metadata: ["cartridge": "\(uri)", "error": "\(error)"]) }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// USB serials being served (or being opened), so a scan does not open a cartridge twice.
private final class ServedSerials: Sendable {
    private let serials = Mutex<Set<String>>([])

    /// False if `serial` is already there.
    func insert(_ serial: String) -> Bool { serials.withLock { $0.insert(serial).inserted } }
    func remove(_ serial: String) { _ = serials.withLock { $0.remove(serial) } }
}
