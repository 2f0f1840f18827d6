/// A unified diff of two texts, as `diff -u` prints it (three lines of context), for
/// `plan --diff`: what `apply` would change in one file. Pure; line-based LCS, which is
/// quadratic but the files are a few thousand lines at most.
public enum UnifiedDiff {
    /// The diff of `old` (at `oldName`, nil when the file does not exist) and `new` (nil
    /// when the file would be removed); "" when they are equal.
    public static func make(old: String?, new: String?, oldName: String, newName: String) -> String {
        if old == new { return "" }
        let a = lines(old), b = lines(new)
        // lcs[i][j]: the longest common subsequence of a[i...] and b[j...].
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        enum Edit { case same(String), removed(String), added(String) }
        var edits: [Edit] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(.same(a[i])); i += 1; j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                edits.append(.added(b[j])); j += 1
            } else {
                edits.append(.removed(a[i])); i += 1
            }
        }
        var out = ["--- " + (old == nil ? "/dev/null" : oldName), "+++ " + (new == nil ? "/dev/null" : newName)]
        // Hunks: runs of changes with up to three lines of context, merged when close.
        let changed = edits.indices.filter { if case .same = edits[$0] { return false } else { return true } }
        var index = 0
        while index < changed.count {
            var end = index
            while end + 1 < changed.count && changed[end + 1] - changed[end] <= 6 { end += 1 }
            let from = max(0, changed[index] - 3), to = min(edits.count - 1, changed[end] + 3)
            var oldStart = 1, newStart = 1
            for edit in edits[..<from] {
                switch edit {
                case .same: oldStart += 1; newStart += 1
                case .removed: oldStart += 1
                case .added: newStart += 1
                }
            }
            var body: [String] = [], oldCount = 0, newCount = 0
            for edit in edits[from...to] {
                switch edit {
                case .same(let line): body.append(" " + line); oldCount += 1; newCount += 1
                case .removed(let line): body.append("-" + line); oldCount += 1
                case .added(let line): body.append("+" + line); newCount += 1
                }
            }
            out.append("@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@")
            out += body
            index = end + 1
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func lines(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// `diff -u`'s range: "start,count", with start one before for an empty side.
    private static func range(_ start: Int, _ count: Int) -> String {
        count == 0 ? "\(start - 1),0" : (count == 1 ? "\(start)" : "\(start),\(count)")
    }
}
