import Glibc

/// A fake sysfs tree in a fresh temporary directory; removed by `remove()`.
struct FakeSysfs {
    let root: String

    init() {
        var template = Array("/tmp/cartridge-power-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        root = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `content` + newline at `relative`, creating parent directories.
    func write(_ relative: String, _ content: String) {
        makeDirectories(parent(of: relative))
        let fd = open(root + "/" + relative, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "open \(relative)")
        let bytes = Array((content + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func link(_ relative: String, to target: String) {
        makeDirectories(parent(of: relative))
        precondition(symlink(target, root + "/" + relative) == 0, "symlink \(relative)")
    }

    func delete(_ relative: String) { unlink(root + "/" + relative) }

    func makeDirectories(_ relative: String) {
        var path = root
        for part in relative.split(separator: "/") {
            path += "/" + part
            mkdir(path, 0o755)
        }
    }

    func remove() { removeTree(root) }

    private func parent(of relative: String) -> String {
        guard let slash = relative.lastIndex(of: "/") else { return "" }
        return String(relative[..<slash])
    }

    private func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR, let directory = opendir(path) {
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// A sink port attached to a PD partner offering 5 V 3 A (USB comm), 9 V 3 A and PPS 3.3-11 V 3 A.
    static func pdCharger() -> FakeSysfs {
        let tree = FakeSysfs()
        tree.write("class/typec/port0/power_role", "source [sink]")
        tree.write("class/typec/port0/power_operation_mode", "usb_power_delivery")
        tree.write("class/typec/port0-partner/supports_usb_power_delivery", "yes")
        let caps = "class/usb_power_delivery/pd1/source-capabilities"
        tree.write("\(caps)/1:fixed_supply/voltage", "5000mV")
        tree.write("\(caps)/1:fixed_supply/maximum_current", "3000mA")
        tree.write("\(caps)/1:fixed_supply/usb_communication_capable", "1")
        tree.write("\(caps)/1:fixed_supply/dual_role_power", "0")
        tree.write("\(caps)/1:fixed_supply/unconstrained_power", "0")
        tree.write("\(caps)/2:fixed_supply/voltage", "9000mV")
        tree.write("\(caps)/2:fixed_supply/maximum_current", "3000mA")
        tree.write("\(caps)/3:programmable_supply/minimum_voltage", "3300mV")
        tree.write("\(caps)/3:programmable_supply/maximum_voltage", "11000mV")
        tree.write("\(caps)/3:programmable_supply/maximum_current", "3000mA")
        tree.write("\(caps)/3:programmable_supply/pps_power_limited", "0")
        tree.link("class/typec/port0-partner/usb_power_delivery", to: "../../usb_power_delivery/pd1")
        return tree
    }
}
