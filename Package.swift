// swift-tools-version:6.1
import PackageDescription

// Hot loops need a target CPU: without one, SIMD `addProduct` (FMA) lowers to
// scalar libm calls (about 50x slower, see docs/PERFORMANCE.md). The portable
// default is haswell (AVX2 + FMA) on x86_64; CARTRIDGE_TARGET_CPU=znver4 (or any
// LLVM CPU name) selects another, e.g. for a native build.
#if arch(x86_64)
let targetCPU = Context.environment["CARTRIDGE_TARGET_CPU"] ?? "haswell"
#else
let targetCPU = Context.environment["CARTRIDGE_TARGET_CPU"] ?? ""
#endif
let kernelSettings: [SwiftSetting] = targetCPU.isEmpty ? [] : [.unsafeFlags(["-target-cpu", targetCPU])]

// The AVX-512 VNNI kernels are compiled for the smallest LLVM CPU with AVX-512 F/CD/BW/DQ/VL and
// VNNI (cascadelake); CartridgeGGML calls them only after cpuid said yes (KernelInstructionSet),
// so the package as a whole still runs on any haswell-level CPU. `fast-dpwssd` is a tuning flag
// only (no instructions beyond cascadelake's): without it LLVM splits every `vpdpwssd` back into
// `vpmaddwd` + `vpaddd`, as it does for the Intel cores where that is faster.
// CARTRIDGE_VNNI_TARGET_CPU names another LLVM CPU for this module (at your own risk: the run-time
// check asks for cascadelake's AVX-512 features only).
#if arch(x86_64)
let vnniKernelSettings: [SwiftSetting] = [
    .unsafeFlags([
        "-target-cpu", Context.environment["CARTRIDGE_VNNI_TARGET_CPU"] ?? "cascadelake",
        "-Xcc", "-Xclang", "-Xcc", "-target-feature", "-Xcc", "-Xclang", "-Xcc", "+fast-dpwssd",
    ])
]
#else
let vnniKernelSettings: [SwiftSetting] = []
#endif

// The inference kernels are ~100x slower unoptimized; optimize them in debug builds too so the
// model tests (which run real forward passes) take seconds.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "cartridge",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CartridgeClient", targets: ["CartridgeClient"]),
        .executable(name: "cartridged", targets: ["cartridged"]),
        .executable(name: "cartridge", targets: ["cartridge"]),
        .executable(name: "cartridge-bench", targets: ["cartridge-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // MARK: C interop
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CUSBGadget", pkgConfig: "libusbgx", providers: [.apt(["libusbgx-dev", "libconfig-dev"])]),
        .target(name: "CFunctionFS", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "CPrefetch"),
        .target(name: "CCPUFeatures"),

        // MARK: Pure cores (no Foundation, no I/O)
        // The error skeleton every module's error type shares (no Foundation, no Glibc).
        .target(name: "CartridgeErrors", swiftSettings: strictSettings),
        .target(name: "CartridgeWire", dependencies: ["CartridgeErrors"], swiftSettings: strictSettings),
        .target(name: "CartridgePower", dependencies: ["CartridgeErrors"], swiftSettings: strictSettings),
        .target(name: "CartridgeGGMLVNNI", dependencies: ["CPrefetch"], swiftSettings: strictSettings + vnniKernelSettings + optimizedInDebug),
        .target(
            name: "CartridgeGGML", dependencies: ["CCPUFeatures", "CartridgeGGMLVNNI"],
            swiftSettings: strictSettings + kernelSettings + optimizedInDebug),
        .target(name: "CartridgeGGUF", dependencies: ["CartridgeErrors", "CartridgeGGML"], swiftSettings: strictSettings),
        .target(name: "CartridgeTokenizers", dependencies: ["CartridgeErrors"], swiftSettings: strictSettings + optimizedInDebug),
        .target(name: "CartridgeTemplate", dependencies: ["CartridgeErrors"], swiftSettings: strictSettings),
        .target(
            name: "CartridgeInference", dependencies: ["CartridgeErrors", "CPrefetch", "CartridgeGGML", "CartridgeGGUF", "CartridgeTokenizers"],
            swiftSettings: strictSettings + kernelSettings + optimizedInDebug),

        // MARK: I/O adapters
        .target(name: "CartridgeSystem", dependencies: ["CartridgeErrors"], swiftSettings: strictSettings),
        .target(name: "CartridgeTransport", dependencies: ["CartridgeErrors", "CartridgeSystem"], swiftSettings: strictSettings),
        .target(
            name: "CartridgeImage",
            dependencies: [
                "CartridgeErrors", "CartridgeInference", "CartridgeGGML", "CartridgeGGUF", "CartridgeTemplate", "CartridgeSystem",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartridgePowerSources",
            dependencies: ["CartridgeErrors", "CartridgePower", "CartridgeSystem"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartridgeGadget",
            dependencies: [
                "CUSBGadget", "CFunctionFS", "CartridgeErrors", "CartridgeSystem", "CartridgeTransport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartridgeUSBHost",
            dependencies: ["CLibUSB", "CartridgeSystem", "CartridgeTransport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartridgeDaemon",
            dependencies: [
                "CartridgeErrors", "CartridgeWire", "CartridgeTransport", "CartridgeInference", "CartridgeImage", "CartridgeSystem",
                "CartridgePower", "CartridgePowerSources", "CartridgeTemplate", "CartridgeGGML", "CartridgeTokenizers",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings + kernelSettings
        ),
        .target(
            name: "CartridgeClient",
            dependencies: ["CartridgeErrors", "CartridgeWire", "CartridgeTransport", "CartridgeUSBHost"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartridgeGateway",
            dependencies: [
                "CartridgeClient", "CartridgeErrors", "CartridgeWire", "CartridgeUSBHost",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CartridgeConformance",
            dependencies: ["CartridgeErrors", "CartridgeWire", "CartridgeTransport", "CartridgeClient"],
            swiftSettings: strictSettings
        ),

        // MARK: Executables
        .executableTarget(
            name: "cartridged",
            dependencies: [
                "CartridgeDaemon", "CartridgeGadget", "CartridgeGGML", "CartridgeInference", "CartridgePower",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartridge",
            dependencies: [
                "CartridgeClient", "CartridgeConformance", "CartridgeGateway", "CartridgeImage", "CartridgeInference", "CartridgeSystem",
                "CartridgeUSBHost", "CartridgeWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartridge-usb-selftest",
            dependencies: [
                "CartridgeGadget", "CartridgeUSBHost", "CartridgeTransport", "CartridgeSystem", "CartridgeDaemon",
                "CartridgeClient", "CartridgeWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cartridge-bench",
            dependencies: [
                "CartridgeClient", "CartridgeGGML", "CartridgeInference", "CartridgeDaemon", "CartridgeImage", "CartridgeSystem", "CartridgeTransport",
                "CartridgeWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings + kernelSettings
        ),

        // MARK: Tests
        .target(
            name: "CartridgeTestSupport",
            dependencies: [
                "CartridgeWire", "CartridgeTransport", "CartridgeInference", "CartridgeClient", "CartridgeSystem",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "CartridgeWireTests", dependencies: ["CartridgeWire", "CartridgeSystem"], resources: [.copy("Fixtures")], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeGGMLTests", dependencies: ["CartridgeGGML", "CartridgeGGMLVNNI"], exclude: ["Fixtures"], swiftSettings: strictSettings + kernelSettings),
        .testTarget(name: "CartridgeGGUFTests", dependencies: ["CartridgeGGUF", "CartridgeGGML"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeTokenizersTests", dependencies: ["CartridgeTokenizers"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeTemplateTests", dependencies: ["CartridgeTemplate"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgePowerTests", dependencies: ["CartridgePower", "CartridgePowerSources"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeInferenceTests", dependencies: ["CartridgeInference", "CartridgeTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeImageTests", dependencies: ["CartridgeImage", "CartridgeTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeSystemTests", dependencies: ["CartridgeSystem", "CartridgeErrors"], swiftSettings: strictSettings),
        .testTarget(name: "CartridgeTransportTests", dependencies: ["CartridgeTransport", "CartridgeSystem"], swiftSettings: strictSettings),
        .testTarget(
            name: "CartridgeDaemonTests",
            dependencies: ["CartridgeDaemon", "CartridgeClient", "CartridgeInference", "CartridgeTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartridgeUSBTests",
            dependencies: ["CartridgeGadget", "CartridgeUSBHost", "CartridgeSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "CartridgeGatewayTests",
            dependencies: [
                "CartridgeGateway", "CartridgeClient", "CartridgeTestSupport", "CartridgeWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CartridgeConformanceTests",
            dependencies: ["CartridgeConformance", "CartridgeDaemon", "CartridgeInference", "CartridgeSystem", "CartridgeTestSupport", "CartridgeWire"],
            swiftSettings: strictSettings
        ),
    ]
)
