import Foundation

/// The result of running a program to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`, waits, and returns its exit status and output.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       currentDirectory: URL? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let currentDirectory { p.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // Read both pipes concurrently so a full pipe cannot block the child.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    // Foundation sometimes never notices a child's exit (seen with `tmux new-session -d`, whose
    // client exits after forking the server: `waitUntilExit` then hangs on a zombie), so reap it
    // ourselves when Foundation has not.
    var status: Int32? = nil
    while p.isRunning {
        var raw: Int32 = 0
        let r = waitpid(p.processIdentifier, &raw, WNOHANG)
        if r == p.processIdentifier {
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            break
        }
        if r < 0 && errno == ECHILD { Thread.sleep(forTimeInterval: 0.001); continue }
        Thread.sleep(forTimeInterval: 0.002)
    }
    return ProcessResult(status: status ?? p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs the built `voxterm` binary.
public func runVoxterm(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    try runProcess(TestPaths.voxtermBinary.path, arguments, environment: environment)
}

/// Path of python3 with nibabel importable, or nil when it is missing.
public let pythonWithNibabel: String? = {
    for py in ["/usr/bin/python3", "/usr/local/bin/python3"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        .split(separator: ":").map({ "\($0)/python3" }) {
        guard FileManager.default.isExecutableFile(atPath: py) else { continue }
        if let r = try? runProcess(py, ["-c", "import nibabel"]), r.status == 0 { return py }
    }
    return nil
}()
