import ArgumentParser

/// The input flags `plan`, `apply` and `status` share; their values are an `Inputs`.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Read the metadata document from FILE instead of IMDS.", valueName: "FILE"))
    var metadata: String?

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    @Option(help: ArgumentHelp("Read configuration from FILE (default: /etc/ec2-netgen/ec2-netgen.conf and .conf.d/*.conf under the root).",
                               valueName: "FILE"))
    var config: String?

    /// The flags' values.
    var values: Inputs { Inputs(metadata: metadata, links: links, config: config) }
}
