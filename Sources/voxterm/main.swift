// The `voxterm` executable: the command tree lives in the VoxtermCLI library (so tests can parse
// command lines without running the binary).
import VoxtermCLI

#if os(Linux)
/// glibc's `mallopt` (malloc.h, which the Glibc module does not export).
@_silgen_name("mallopt") func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// malloc.h's `M_MMAP_THRESHOLD`.
let glibcMmapThreshold: Int32 = -3
// Every allocation of 1 MiB or more (volumes, fields, compressed files) gets its own mapping and
// goes back to the system when freed. glibc's default threshold grows up to 32 MiB after the first
// large free, after which 28 MB volumes come from the heap and their freed space stays resident:
// a 1 mm registration peaked 60-110 MB higher (576-624 against 515 MB).
_ = glibcMallopt(glibcMmapThreshold, 1 << 20)
#endif

Voxterm.main()
