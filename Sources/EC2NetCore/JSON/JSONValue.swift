/// A JSON value, the carrier of the metadata document, the links file and `plan --json`.
///
/// Our own because the core must stay free of Foundation (start-up time and binary size,
/// docs/design.md) and because the parser has to be fuzzable as a pure function.
/// Objects keep their keys in a dictionary for lookup; serialisation sorts the keys, so
/// output never depends on hashing order.
public enum JSONValue: Equatable, Sendable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// A number, kept as its validated JSON text so nothing is lost to floating point.
    case number(String)
    case bool(Bool)
    case null

    /// The integer value of a number, when it is a whole number that fits.
    public var integer: Int? {
        guard case .number(let text) = self else { return nil }
        return Int(text)
    }

    /// The string, when this is one.
    public var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }
}
