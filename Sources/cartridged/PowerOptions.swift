import ArgumentParser

/// Where the power budget comes from (docs/POWER.md). Without --power-source the daemon does
/// not throttle.
struct PowerOptions: ParsableArguments {
    @Option(name: .long, help: "Power source: sysfs, sysfs:ROOT, static:10W, or a scripted power source file.")
    var powerSource: String?

    @Option(name: .long, help: "Board power profile: pi-zero-2w, pi4, pi5, rk3588, or key=value list (docs/POWER.md).")
    var powerProfile: String = "pi5"

    @Flag(name: .long, help: "Allow PPS and AVS contracts (risky on batteryless boards).")
    var powerProgrammable = false

    @Flag(name: .long, help: "Allow EPR (28-48 V) contracts when source and cable support them.")
    var powerEpr = false
}
