/// The metadata document of docs/design.md: a JSON object mirroring the IMDS tree
/// under `/latest/`. Objects are directories; a string is the raw body of a leaf; an array
/// of strings is accepted as that body joined by newlines.
///
/// `fetch` writes one, `--metadata` reads one, the cache is one: a single parser serves
/// live and recorded data.
public struct MetadataDocument: Equatable, Sendable {
    /// The tree; always an object.
    public let root: [String: JSONValue]

    /// Wraps a parsed tree, which must be an object.
    public init(root: [String: JSONValue]) { self.root = root }

    /// Parses document bytes; `source` names them in errors.
    public init(bytes: some Collection<UInt8>, source: String) throws(InputError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(source: source, offset: error.offset, reason: error.reason)
        }
        guard case .object(let root) = value else { throw .notADirectory(path: "/") }
        self.root = root
    }

    /// The canonical bytes of the document (sorted keys), so live and cached copies of
    /// the same metadata are byte-identical.
    public func serialized() -> String { JSONValue.object(root).serialized() }

    /// The same text as UTF-8 bytes, as the cache and the applied record store it.
    public func serializedBytes() -> [UInt8] { JSONValue.object(root).serializedBytes() }

    /// The node at a slash-free path of components, or nil when any part is absent.
    func node(_ path: [String]) throws(InputError) -> JSONValue? {
        var current = JSONValue.object(root)
        for (index, component) in path.enumerated() {
            guard case .object(let members) = current else {
                throw .notADirectory(path: path[..<index].joined(separator: "/"))
            }
            guard let next = members[component] else { return nil }
            current = next
        }
        return current
    }

    /// The members of a directory; empty when it is absent (IMDS answers 404 for empty
    /// lists), an error when it is a value.
    func directory(_ path: [String]) throws(InputError) -> [String: JSONValue] {
        switch try node(path) {
        case nil: return [:]
        case .object(let members)?: return members
        default: throw .notADirectory(path: path.joined(separator: "/"))
        }
    }

    /// What a JSON value is, for messages: "a JSON number (5)".
    static func kind(of value: JSONValue) -> String {
        switch value {
        case .number(let text): return "a JSON number (\(text))"
        case .bool(let flag): return "a JSON boolean (\(flag))"
        case .null: return "JSON null"
        case .object: return "a directory (JSON object)"
        case .array: return "a list"
        case .string: return "a string"
        }
    }

    /// The raw body of a leaf, or nil when absent.
    func body(_ path: [String]) throws(InputError) -> String? { try Self.body(of: try node(path), path: path) }

    /// The raw body of a node already looked up (nil when absent); `path` names it in
    /// errors, and is only built for one.
    static func body(of node: JSONValue?, path: @autoclosure () -> [String]) throws(InputError) -> String? {
        switch node {
        case nil: return nil
        case .string(let text)?: return text
        case .array(let elements)?:
            var lines: [String] = []
            for element in elements {
                guard case .string(let line) = element else {
                    throw .notAString(path: path().joined(separator: "/"), found: Self.kind(of: element) + " in a list")
                }
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        case .object?: throw .notAValue(path: path().joined(separator: "/"))
        case let other?: throw .notAString(path: path().joined(separator: "/"), found: Self.kind(of: other))
        }
    }
}
