/// What a board needs: an idle floor, a cost per active inference worker (one core running the
/// model), a peak it may reach with transients, the input voltages it accepts, and how fast one
/// worker generates tokens. Presets are estimates from published board measurements, rounded
/// up; `docs/POWER.md` lists them and how to measure your own.
public struct DevicePowerProfile: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// Draw with the daemon loaded and no inference running.
    public var idleMilliwatts: UInt32
    /// Extra draw of one worker running the model flat out.
    public var milliwattsPerWorker: UInt32
    /// Inference workers the board can run (its cores).
    public var maximumWorkers: Int
    /// The most the board may draw, transients included; the policy never asks for more.
    public var peakMilliwatts: UInt32
    /// Input voltages the board's power path accepts.
    public var inputMillivolts: ClosedRange<UInt32>
    /// Input current the board's connector and traces accept.
    public var maximumInputMilliamps: UInt32
    /// Tokens per second one worker produces (used to turn a fraction of a worker into a rate cap).
    public var tokensPerSecondPerWorker: Double

    public init(
        name: String, idleMilliwatts: UInt32, milliwattsPerWorker: UInt32, maximumWorkers: Int,
        peakMilliwatts: UInt32, inputMillivolts: ClosedRange<UInt32> = 5000...5000,
        maximumInputMilliamps: UInt32 = 3000, tokensPerSecondPerWorker: Double
    ) {
        self.name = name
        self.idleMilliwatts = idleMilliwatts
        self.milliwattsPerWorker = max(1, milliwattsPerWorker)
        self.maximumWorkers = max(0, maximumWorkers)
        self.peakMilliwatts = peakMilliwatts
        self.inputMillivolts = inputMillivolts
        self.maximumInputMilliamps = maximumInputMilliamps
        self.tokensPerSecondPerWorker = tokensPerSecondPerWorker
    }

    /// Idle plus one worker: below this the board cannot do useful work at full rate,
    /// and a PD request sets Capability Mismatch.
    public var minimumMilliwatts: UInt32 { idleMilliwatts + milliwattsPerWorker }

    /// Idle plus every worker.
    public var fullLoadMilliwatts: UInt32 { idleMilliwatts + milliwattsPerWorker * UInt32(maximumWorkers) }

    public var description: String {
        "\(name): idle \(PowerUnits.watts(idleMilliwatts)), \(PowerUnits.watts(milliwattsPerWorker))/worker x \(maximumWorkers), peak \(PowerUnits.watts(peakMilliwatts))"
    }

    /// Raspberry Pi Zero 2 W: 4 x Cortex-A53, 5 V only (micro-USB), 2.5 A supply recommended.
    public static let raspberryPiZero2W = DevicePowerProfile(
        name: "pi-zero-2w", idleMilliwatts: 600, milliwattsPerWorker: 450, maximumWorkers: 4,
        peakMilliwatts: 3000, inputMillivolts: 5000...5000, maximumInputMilliamps: 2500, tokensPerSecondPerWorker: 6)

    /// Raspberry Pi 4 Model B: 4 x Cortex-A72, 5 V only, 3 A.
    public static let raspberryPi4 = DevicePowerProfile(
        name: "pi4", idleMilliwatts: 2700, milliwattsPerWorker: 950, maximumWorkers: 4,
        peakMilliwatts: 7500, inputMillivolts: 5000...5000, maximumInputMilliamps: 3000, tokensPerSecondPerWorker: 12)

    /// Raspberry Pi 5: 4 x Cortex-A76, 5 V only, up to 5 A (vendor 5 V 5 A PD supply).
    public static let raspberryPi5 = DevicePowerProfile(
        name: "pi5", idleMilliwatts: 3000, milliwattsPerWorker: 1600, maximumWorkers: 4,
        peakMilliwatts: 12000, inputMillivolts: 5000...5000, maximumInputMilliamps: 5000, tokensPerSecondPerWorker: 25)

    /// RK3588 boards (e.g. ROCK 5B): 4 x A76 + 4 x A55, PD input 5...20 V.
    public static let rk3588 = DevicePowerProfile(
        name: "rk3588", idleMilliwatts: 3500, milliwattsPerWorker: 1100, maximumWorkers: 8,
        peakMilliwatts: 15000, inputMillivolts: 5000...20000, maximumInputMilliamps: 5000, tokensPerSecondPerWorker: 15)

    public static let presets: [DevicePowerProfile] = [.raspberryPiZero2W, .raspberryPi4, .raspberryPi5, .rk3588]

    /// The preset called `name` ("pi-zero-2w", "pi4", "pi5", "rk3588"), case-insensitive.
    public static func preset(named name: String) -> DevicePowerProfile? {
        presets.first { $0.name == name.lowercased() }
    }
}
