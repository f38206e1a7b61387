import CartridgeSystem
import Logging
import ServiceLifecycle

/// Sends WATCHDOG=1 at half the `WatchdogSec=` period while the daemon runs (nothing when
/// systemd did not ask for a watchdog). Returns on graceful shutdown.
struct SystemdWatchdogService: Service {
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        guard let interval = SystemdNotifier.watchdogInterval(), notifier.socketPath != nil else {
            try? await gracefulShutdown()
            return
        }
        logger.info("feeding the systemd watchdog", metadata: ["interval": "\(interval)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try notifier.watchdog() } catch { logger.warning("WATCHDOG=1 failed", metadata: ["error": "\(error)"]) }
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
