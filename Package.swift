// swift-tools-version: 6.0
import PackageDescription

// The dependency rule of docs/design.md is enforced here: EC2NetCore imports nothing of
// ours, EC2NetFS only the core, EC2NetOps the core and the I/O layers, and only the CLI
// (EC2NetCLI, and the executable that calls it) sees everything.
let package = Package(
    name: "ec2-netgen",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ec2-netgen", targets: ["ec2-netgen"]),
        .executable(name: "ec2-netgen-generator", targets: ["ec2-netgen-generator"]),
        // For the fuzz package (Fuzz/), which builds its targets with the fuzzer runtime.
        .library(name: "EC2NetCoreLibrary", targets: ["EC2NetCore"]),
        .library(name: "EC2NetHTTPLibrary", targets: ["EC2NetHTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .target(name: "EC2NetCore"),
        .target(name: "EC2NetFS", dependencies: ["EC2NetCore"]),
        // Our own small HTTP/1.1 client (docs/design.md, technology): IMDS is one plain-HTTP
        // link-local service; a library would cost 20 MB and minutes of build.
        .target(name: "EC2NetHTTP"),
        // libsystemd (headers: Debian's libsystemd-dev): sd-bus for networkd, sd-device for
        // links, sd-journal for structured logs. Opened on first use, not linked
        // (Sources/CSystemd/libsystemd.c), so runs that never need it never map it.
        .target(name: "CSystemd"),
        // The kernel's rtnetlink headers (linux/rtnetlink.h, linux/fib_rules.h), for names.
        .systemLibrary(name: "CNetlink"),
        .target(name: "EC2NetIO", dependencies: ["EC2NetCore", "EC2NetHTTP", "CSystemd", "CNetlink"]),
        // The operations (apply, status): every decision of a run, with its side effects
        // outside the root passed in as small protocols (SystemEffects), so tests use
        // recording fakes. The CLI parses flags and calls one of them.
        .target(name: "EC2NetOps", dependencies: ["EC2NetCore", "EC2NetFS", "EC2NetIO"]),
        // hypotf through glibc's old hypot and arc4random through getrandom, so the binary
        // needs no symbol newer than glibc 2.34 (Amazon Linux 2023); Tests/packaging/check
        // verifies the floor.
        .target(name: "CGlibcFloor"),
        // The commands: flags (swift-argument-parser) and their plain values, which the
        // units' runs fill in without it. A library so tests can compare the two readings.
        .target(
            name: "EC2NetCLI",
            dependencies: [
                "EC2NetCore", "EC2NetFS", "EC2NetIO", "EC2NetOps",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ec2-netgen",
            dependencies: ["EC2NetCLI", "CGlibcFloor"],
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--wrap=hypotf", "-Xlinker", "--wrap=arc4random"]),
                // libstdc++ (which the Swift runtime needs) linked statically in release
                // builds, as the Swift runtime is: packaging/link/libstdc++.so is a linker script
                // naming the archive. Debug builds use the shared Swift runtime, which
                // brings the shared libstdc++ itself.
                .unsafeFlags(["-Xclang-linker", "-L" + Context.packageDirectory + "/packaging/link"], .when(configuration: .release)),
            ]
        ),
        // The generator runs at every boot and daemon-reload: no argument parser, no HTTP,
        // no libsystemd, so it cannot reach IMDS or D-Bus even by mistake.
        // Fully static: with no dynamic loader, start-up is not spent on relocations (75% of
        // its instructions as a dynamically linked PIE; bench/run measures it).
        .executableTarget(name: "ec2-netgen-generator", dependencies: ["EC2NetCore", "EC2NetFS"], exclude: ["README.md"],
                          linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // Tests: one target per module, each testing what its module decides; the shared
        // helpers, fakes and the stub IMDS's driver in one support library.
        .target(name: "EC2NetTestSupport", dependencies: ["EC2NetCore", "EC2NetHTTP", "EC2NetIO", "EC2NetOps"], path: "Tests/Support"),
        .testTarget(name: "EC2NetCoreTests", dependencies: ["EC2NetCore", "EC2NetFS", "EC2NetTestSupport"]),
        .testTarget(name: "EC2NetFSTests", dependencies: ["EC2NetCore", "EC2NetFS", "EC2NetTestSupport"]),
        .testTarget(name: "EC2NetHTTPTests", dependencies: ["EC2NetHTTP", "EC2NetTestSupport"]),
        .testTarget(name: "EC2NetIOTests", dependencies: ["EC2NetCore", "EC2NetIO", "EC2NetTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EC2NetOpsTests", dependencies: ["EC2NetCore", "EC2NetFS", "EC2NetHTTP", "EC2NetIO", "EC2NetOps",
                                                            "EC2NetTestSupport"]),
        .testTarget(name: "EC2NetCLITests", dependencies: ["EC2NetCore", "EC2NetCLI", "EC2NetTestSupport",
                                                            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "GeneratorTests", dependencies: ["EC2NetTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
