import ArgumentParser
import CartridgeClient
import CartridgeConformance
import CartridgeSystem

#if canImport(Glibc)
import Glibc
#endif

struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run protocol conformance scripts against a live cartridge (docs/CONFORMANCE.md).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Seconds an expect step waits.") var timeout: Double = 10
    @Argument(help: "Script files (.cts); directories run every script in them.") var scripts: [String]

    func validate() throws {
        if scripts.isEmpty { throw ValidationError("give at least one script") }
    }

    func run() async throws {
        let uri = try connection.uri()
        let runner = ConformanceRunner(
            timeout: .milliseconds(Int(timeout * 1000)), report: { print($0) },
            openTransport: { try await uri.openTransport() })
        let probe: ConformanceRunner.Probe
        do { probe = try await runner.probe() } catch { throw CommandFailure("cannot probe \(uri): \(error)") }
        var total = ConformanceRunner.Outcome()
        for path in try ScriptFiles.expand(scripts) {
            let script: ConformanceScript
            do {
                script = try ConformanceScript(text: try ScriptFiles.read(path), file: path, variables: probe.variables)
            } catch {
                print("FAIL  \(path): \(error)")
                total.failed += 1
                continue
            }
            let outcome = await runner.run(script, capabilities: probe.capabilities)
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.skippedScripts += outcome.skippedScripts
        }
        let skipped = total.skippedScripts > 0 ? " (\(total.skippedScripts) scripts skipped)" : ""
        print("\(total.passed) passed, \(total.failed) failed\(skipped)")
        if !total.succeeded { throw ExitCode(1) }
    }
}

/// Script paths: files as given, directories expanded to their `.cts` files in name order.
enum ScriptFiles {
    static func expand(_ paths: [String]) throws -> [String] {
        var result: [String] = []
        for path in paths {
            if let directory = opendir(path) {
                var names: [String] = []
                while let entry = readdir(directory) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name.hasSuffix(".cts") { names.append(name) }
                }
                closedir(directory)
                result += names.sorted().map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            } else {
                result.append(path)
            }
        }
        return result
    }

    static func read(_ path: String) throws -> String {
        String(decoding: try FileBytes.read(path), as: UTF8.self)
    }
}
