import Glibc

/// What the terminal wants: colour only on a terminal that is not `TERM=dumb`, and never
/// with `NO_COLOR` set (no-color.org).
enum Terminal {
    static var colour: Bool {
        guard isatty(1) == 1, getenv("NO_COLOR") == nil else { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }
}
