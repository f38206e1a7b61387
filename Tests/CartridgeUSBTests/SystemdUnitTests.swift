import CartridgeSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `systemd-analyze verify` on systemd/cartridged.service (skipped, with the reason printed,
/// where systemd-analyze is not installed).
@Suite struct SystemdUnitTests {
    static let analyzer: String? = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { (path: String) in access(path, X_OK) == 0 }
    static let repository: String = {
        var path = String(#filePath)
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    private func read(_ path: String) -> String? {
        (try? FileBytes.read(path)).map { String(decoding: $0, as: UTF8.self) }
    }

    private func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let outputPath = "/tmp/cartridge-verify-\(getpid()).log"
        let command = arguments.map { "'\($0)'" }.joined(separator: " ") + " >'\(outputPath)' 2>&1"
        let status = system(command)
        defer { unlink(outputPath) }
        return (status, read(outputPath) ?? "")
    }

    @Test(.enabled(if: analyzer != nil, "systemd-analyze is not installed"))
    func cartridgedServiceVerifies() throws {
        let unit = try #require(read("\(Self.repository)/systemd/cartridged.service"))
        // verify checks that ExecStart exists: point it at a binary that does.
        let testable = unit.replacing("/usr/local/bin/cartridged", with: "/bin/true")
        let directory = "/tmp/cartridge-unit-\(getpid())"
        mkdir(directory, 0o755)
        let path = "\(directory)/cartridged.service"
        let file = try #require(fopen(path, "w"))
        fputs(testable, file)
        fclose(file)
        defer { unlink(path); rmdir(directory) }
        let (status, output) = run([Self.analyzer!, "verify", path])
        #expect(status == 0, "systemd-analyze verify failed: \(output)")
        #expect(!output.contains("cartridged.service:"), "warnings: \(output)")
        #expect(unit.contains("Type=notify") && unit.contains("WantedBy=usb-gadget.target"))
        let settings = unit.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!settings.contains { $0.hasPrefix("ProtectKernelTunables=") }, "ProtectKernelTunables makes configfs read-only")
        #expect(settings.contains("WatchdogSec=30") && settings.contains("Restart=on-failure"))

        // The sandbox (docs/USB.md): the overall exposure stays at or below 2.0 (it was 2.7).
        let (_, security) = run([Self.analyzer!, "security", "--offline=yes", path])
        let marker = "Overall exposure level for cartridged.service: "
        if let line = security.split(separator: "\n").first(where: { $0.contains(marker) }), let colon = line.lastIndex(of: ":") {
            let figure = Double(line[line.index(after: colon)...].drop { $0 == " " }.prefix { $0 == "." || $0.isNumber })
            let exposure = try #require(figure, "no exposure figure in: \(security)")
            #expect(exposure <= 2.0, "exposure \(exposure)")
        } else {
            print("skipping the exposure check: this systemd-analyze has no 'security --offline' (\(security.prefix(200)))")
        }
    }

    @Test func udevRuleMatchesTheInterfaceTripleAndGrantsAccess() throws {
        let rule = try #require(read("\(Self.repository)/udev/70-cartridge.rules"))
        let active = rule.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(active.count == 1)
        let line = String(active.first ?? "")
        #expect(line.contains(#"ENV{ID_USB_INTERFACES}=="*:ffca01:*""#))
        #expect(line.contains(#"TAG+="uaccess""#) && line.contains(#"GROUP="plugdev""#) && line.contains(#"MODE="0660""#))
    }
}
