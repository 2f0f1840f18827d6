import EC2NetCore
import EC2NetIO
import EC2NetOps

public final class RecordingTrigger: LinkTrigger {
    public init() {}
    /// Every call in order: "reload" or the link an add was re-fired for.
    public var calls: [String] = []
    public var triggered: [String] { calls.filter { $0 != "reload" } }
    public func reloadConfiguration() throws(IOError) { calls.append("reload") }
    public func triggerAdd(link: String) throws(IOError) { calls.append(link) }
}
