extension Plan {
    /// The managed files this plan leaves on disk as they are although it renders none for
    /// them: those of ENIs whose metadata looks mid-attach, so that IMDS lag never takes an
    /// ENI's routing away. Every other managed file the plan does not render is stale:
    /// `apply` removes it, its preview shows the removal, and `status` reports it.
    public var keptFileNames: Set<String> {
        var names: Set<String> = []
        for skipped in skipped {
            guard case .incomplete = skipped.reason else { continue }
            names.insert(Artifact.networkFileName(for: skipped.mac))
            names.insert(Artifact.linkFileName(for: skipped.mac))
        }
        return names
    }
}
