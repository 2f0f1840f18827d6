import EC2NetCLI

// The executable is only this: the commands live in EC2NetCLI, where tests reach them.
CommandLineInterface.main(Array(CommandLine.arguments.dropFirst()))
