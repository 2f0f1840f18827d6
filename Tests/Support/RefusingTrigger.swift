import EC2NetCore
import EC2NetIO
import EC2NetOps

public final class RefusingTrigger: LinkTrigger {
    public init() {}
    public var triggered: [String] = []
    public func reloadConfiguration() throws(IOError) { throw .udev(operation: "udevadm control --reload exited with 1", code: 0) }
    public func triggerAdd(link: String) throws(IOError) { triggered.append(link) }
}
