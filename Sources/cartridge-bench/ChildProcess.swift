import ArgumentParser
import CartridgeSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with wait4, so its peak resident set comes
/// from the kernel's rusage (ru_maxrss), the same measure for every engine. Its stdout and stderr
/// go to files (no pipe to drain while it runs).
///
/// Linux caveat: glibc's posix_spawn shares the parent's memory until exec, and exec keeps that
/// memory's high-water mark, so a child's ru_maxrss is never below the parent's VmHWM at spawn
/// time. The benchmark parents never load a model (see `parentPeakKilobytes` in the tables).
struct ChildProcess {
    /// How a reaped child ended.
    struct Termination {
        /// The exit code, or minus the signal number that killed it.
        var status: Int32
        /// ru_maxrss of the child, in KiB.
        var peakResidentKilobytes: Int
        var exitedNormally: Bool { status == 0 }
    }

    let pid: pid_t
    let executable: String
    let stdoutPath: String
    let stderrPath: String

    /// Starts `executable` with `arguments`; `environment` entries are added to (or replace) ours.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], outputPrefix: String
    ) throws -> ChildProcess {
        let stdoutPath = outputPrefix + ".out"
        let stderrPath = outputPrefix + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw ValidationError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, executable: executable, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// Runs a child to completion: its termination, stdout and stderr.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], outputPrefix: String
    ) throws -> (termination: Termination, stdout: String, stderr: String) {
        let child = try spawn(executable, arguments, environment: environment, outputPrefix: outputPrefix)
        let termination = try child.wait()
        return (termination, child.readStdout(), child.readStderr())
    }

    /// Blocks until the child ends; reaps it.
    func wait() throws -> Termination {
        guard let termination = try reap(blocking: true) else { throw ValidationError("wait4 returned no status for \(pid)") }
        return termination
    }

    /// The termination if the child has already ended (reaping it), else nil.
    func poll() throws -> Termination? { try reap(blocking: false) }

    /// SIGTERM, then SIGKILL if it has not ended after `grace` seconds; reaps it.
    func stop(grace: Double = 10) throws -> Termination {
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(grace * 1000))
        while clock.now < deadline {
            if let termination = try poll() { return termination }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        return try wait()
    }

    func readStdout() -> String { Self.contents(of: stdoutPath) }
    func readStderr() -> String { Self.contents(of: stderrPath) }

    private func reap(blocking: Bool) throws -> Termination? {
        var status: Int32 = 0
        var usage = rusage()
        let result: pid_t
        do throws(SystemCallError) {
            result = try SystemCall.retryingInterrupts("wait4(\(pid))") { wait4(pid, &status, blocking ? 0 : WNOHANG, &usage) }
        } catch {
            throw ValidationError("\(error.message)")
        }
        if result == 0 { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : -signal
        return Termination(status: code, peakResidentKilobytes: Int(usage.ru_maxrss))
    }

    /// A whole small file as text ("" if unreadable).
    static func contents(of path: String) -> String {
        guard let file = fopen(path, "rb") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// VmHWM of this process, in KiB (0 if unknown).
    static func ownPeakKilobytes() -> Int {
        for line in contents(of: "/proc/self/status").split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// The running executable's own path (for starting `cartridge-bench` children).
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "/proc/self/exe" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
