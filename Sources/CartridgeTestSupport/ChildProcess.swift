import Foundation

/// A program of this package (cartridged, cartridge) run as a separate process by the end-to-end
/// tests, found next to the test bundle in the build directory.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only mutated in init and by Foundation's own locking.
    private let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    public let name: String

    /// The build directory holding the test bundle and the package's executables.
    public static var buildDirectory: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // The xctest bundle may itself be a directory on some platforms.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("cartridged").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    public static func executable(_ name: String) -> URL { buildDirectory.appendingPathComponent(name) }

    public init(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        self.name = name
        process.executableURL = ChildProcess.executable(name)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit (up to `timeout`), killing it if it does not.
    @discardableResult
    public func wait(timeout: Duration = .seconds(10)) async -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while process.isRunning && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Everything the process wrote to stdout so far (call after it exited, or it blocks).
    public func readOutput() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    public func readErrors() -> String {
        String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Reads stdout until it contains `marker` or `timeout` passes.
    public func waitForOutput(containing marker: String, timeout: Duration = .seconds(10)) async -> Bool {
        let handle = output.fileHandleForReading
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var collected = ""
        while clock.now < deadline {
            let data = handle.availableData  // blocks until some data or EOF
            if data.isEmpty { return collected.contains(marker) }
            collected += String(decoding: data, as: UTF8.self)
            if collected.contains(marker) { return true }
        }
        return false
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
