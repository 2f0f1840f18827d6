/// Everything the core rejects, each case naming its culprit (the IMDS path, the value,
/// the file and line). All of them are bad input: the CLI maps them to exit code 2.
public enum InputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A JSON text (`source` names the file or "metadata") did not parse.
    case invalidJSON(source: String, offset: Int, reason: String)
    /// A metadata path that must be a directory (JSON object) is a value.
    case notADirectory(path: String)
    /// A metadata path that must be a value is a directory.
    case notAValue(path: String)
    /// A metadata leaf is a JSON number, boolean or null: IMDS serves every leaf as text,
    /// so a document holding one was not recorded from IMDS as it is.
    case notAString(path: String, found: String)
    /// A required metadata key is absent.
    case missingKey(path: String)
    /// A metadata value or list entry does not parse as what the key holds.
    case invalidValue(path: String, value: String, expected: String)
    /// Two MAC directories differ only in spelling.
    case duplicateMAC(MACAddress)
    /// Two ENIs claim the same (network card, device number) and so the same route table.
    case duplicateDevice(card: Int, device: Int, macs: [MACAddress])
    /// One address is listed on two ENIs; rules for it could only point at one of them.
    case duplicateAddress(IPAddress, macs: [MACAddress])
    /// An entry of the links file (`source`; entries count from 1) is malformed.
    case invalidLink(source: String, entry: Int, field: String, problem: String)
    /// A configuration file line is wrong.
    case config(file: String, line: Int, message: String)

    public var description: String {
        switch self {
        case .invalidJSON(let source, let offset, let reason):
            return "\(source): invalid JSON: \(reason) at byte \(offset)"
        case .notADirectory(let path):
            return "metadata \(path): expected a directory (JSON object), found a value"
        case .notAValue(let path):
            return "metadata \(path): expected a value, found a directory"
        case .notAString(let path, let found):
            return "metadata \(path): found \(found); IMDS serves every value as text, so it must be a JSON string"
        case .missingKey(let path):
            return "metadata \(path): required key is missing"
        case .invalidValue(let path, let value, let expected):
            return "metadata \(path): \(quoted(value)) is not \(expected)"
        case .duplicateMAC(let mac):
            return "metadata macs/: \(mac) is listed twice"
        case .duplicateDevice(let card, let device, let macs):
            return "metadata: network-card \(card) device-number \(device) is claimed by "
                + macs.map(\.description).joined(separator: " and ")
        case .duplicateAddress(let address, let macs):
            return "metadata: address \(address) is listed on "
                + macs.map(\.description).joined(separator: " and ")
        case .invalidLink(let source, let entry, let field, let problem):
            return "\(source): entry \(entry): \(field) \(problem)"
        case .config(let file, let line, let message):
            return "\(file):\(line): \(message)"
        }
    }
}
