// The `voxterm` executable: the command tree lives in the VoxtermCLI library (so tests can parse
// command lines without running the binary).
import VoxtermCLI

Voxterm.main()
