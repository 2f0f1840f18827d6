import EC2NetCore
import EC2NetFS
import EC2NetIO

/// `plan`'s operation: the plan `apply` would make from `source`, with nothing written,
/// no cache read or saved, and no lock taken. IMDS is read whole (a preview must not
/// depend on what the cache says).
public func preview(source: MetadataSource, links: [Link], options: PlanOptions) throws -> Plan {
    let instance: Instance
    switch source {
    case .document(let document, _, _):
        instance = try parse(document)
    case .cache:
        throw ApplyError.previewNeedsDocument
    case .imds(let client, _):
        instance = try parseServed(client.fetchDocument(previous: nil, only: nil, sourceLinks: sourceLinks(links)), by: client)
    }
    return try plan(instance, links: links, options: options)
}

extension Plan {
    /// The files as `plan` prints them: a `==> NAME <==` line, then the contents.
    public func filesText() -> String {
        render(self).map { "==> \($0.name) <==\n" + $0.contents }.joined(separator: "\n")
    }
}

/// What `apply` would change on disk under `root`, as one unified diff per file (new,
/// changed, removed), in file-name order; "" when nothing would change. ENIs whose
/// metadata looks mid-attach keep their files, as `apply` keeps them. `onlyRendered`: look
/// only at the files this plan renders (a plan filtered to one ENI).
public func pendingChanges(_ plan: Plan, root: String, onlyRendered: Bool = false) -> String {
    let directory = ManagedDirectory(root: root)
    var wanted: [String: String] = [:]
    for artifact in render(plan) { wanted[artifact.name] = artifact.contents }
    let onDisk = onlyRendered ? [] : Set((try? directory.managedFiles()) ?? [])
    var text = ""
    for name in Set(wanted.keys).union(onDisk.subtracting(plan.keptFileNames)).sorted() {
        let path = directory.path + "/" + name
        let current = (try? FileIO.readTextIfPresent(path)).flatMap { $0 }
        text += UnifiedDiff.make(old: current, new: wanted[name], oldName: path, newName: path)
    }
    return text
}
