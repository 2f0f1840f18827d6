import ArgumentParser
@testable import EC2NetCLI
import Testing

/// The boot path's own reading of `apply`'s flags (`ApplyArguments(unitArguments:)`)
/// against swift-argument-parser's: where the fast reader accepts a command line, both
/// must give the same values; where the argument parser refuses one (so it can print
/// the error), the fast reader must refuse it too.
struct UnitArgumentsTests {
    /// What the argument parser makes of `arguments`: the values, or nil when it refuses.
    static func argumentParser(_ arguments: [String]) -> ApplyArguments? {
        guard let command = try? EC2Netgen.parseAsRoot(arguments) as? ApplyCommand else { return nil }
        return command.values
    }

    /// Every command line the units and udev run, and what operators type.
    static let accepted: [[String]] = [
        ["apply"],
        ["apply", "--cached", "--boot"],
        ["apply", "--cached", "--boot", "--from-cloud-init", "--no-reload"],
        ["apply", "--wait-for", "ens6"],
        ["apply", "--wait-for=ens6", "--wait-timeout", "120"],
        ["apply", "--cached", "--boot", "--no-reload", "--root", "/tmp/x", "--links", "/tmp/l.json", "--config", "/tmp/c.conf"],
        ["apply", "--metadata", "/tmp/m.json", "--root=/tmp/r", "--diff", "--unattended"],
        ["apply", "--imds-endpoint", "http://[fd00:ec2::254]", "--imds-deadline", "2.5"],
        ["apply", "--imds-endpoint=http://169.254.169.254:80", "--imds-deadline=600"],
        ["apply", "--wait-timeout", "1e2", "--wait-for", "eth0"],
    ]

    /// Command lines the fast reader leaves to the argument parser, which reads them
    /// itself: other commands, help, repeated flags, an empty value.
    static let readByArgumentParser: [[String]] = [
        [], ["--version"], ["plan"], ["status", "--json"], ["apply", "--help"], ["apply", "-h"],
        ["apply", "--cached", "--cached"], ["apply", "--root", "/a", "--root", "/b"], ["apply", "--root="],
    ]

    /// Mistakes: the argument parser refuses each with its message, so the fast reader
    /// must leave them to it.
    static let mistakes: [[String]] = [
        ["apply", "--bogus"], ["apply", "extra"], ["apply", "--root"], ["apply", "--cached=yes"],
        ["apply", "--boot"], ["apply", "--cached", "--from-cloud-init"], ["apply", "--from-cloud-init=yes", "--cached", "--boot"],
        ["apply", "--cached", "--metadata", "/m.json"], ["apply", "--wait-for", "ens6", "--cached"],
        ["apply", "--wait-for", "bad/name"], ["apply", "--wait-timeout", "0"], ["apply", "--wait-timeout", "3601"],
        ["apply", "--wait-timeout", "soon"], ["apply", "--wait-timeout", "nan"], ["apply", "--imds-deadline", "-1"],
        ["apply", "--imds-deadline", "601"], ["apply", "--imds-endpoint", "http://imds.example"], ["apply", "--wait-for", "-x"],
    ]

    @Test("the unit command lines: the fast reader gives exactly the argument parser's values")
    func agreesWhereItAccepts() {
        for arguments in Self.accepted {
            let fast = ApplyArguments(unitArguments: arguments)
            #expect(fast != nil, "the fast reader refused \(arguments)")
            #expect(fast == Self.argumentParser(arguments), "\(arguments): \(String(describing: fast))")
        }
    }

    @Test("help, repeats and mistakes go to the argument parser, which answers them")
    func leavesTheRestToArgumentParser() {
        for arguments in Self.readByArgumentParser + Self.mistakes {
            #expect(ApplyArguments(unitArguments: arguments) == nil, "the fast reader accepted \(arguments)")
        }
        for arguments in Self.mistakes {
            #expect(Self.argumentParser(arguments) == nil, "the argument parser accepted \(arguments)")
        }
    }
}
