// swift-tools-version: 6.0
// libFuzzer targets, in their own package so the main build never needs the fuzzer
// runtime. Build and run with Fuzz/run (swift build -Xswiftc -sanitize=fuzzer).
import PackageDescription

let package = Package(
    name: "ec2-netgen-fuzz",
    dependencies: [.package(name: "ec2-netgen", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzMetadata", dependencies: ["FuzzDriver", .product(name: "EC2NetCoreLibrary", package: "ec2-netgen")]),
        .executableTarget(name: "FuzzHTTP", dependencies: ["FuzzDriver", .product(name: "EC2NetHTTPLibrary", package: "ec2-netgen")]),
    ],
    swiftLanguageModes: [.v6]
)
