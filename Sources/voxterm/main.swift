// The `voxterm` executable: the command tree lives in the VoxtermCLI library (so tests can parse
// command lines without running the binary).
import VoxtermCLI

#if os(Linux)
import CMalloc

// Every allocation of 1 MiB or more (volumes, fields, compressed files) gets its own mapping and
// goes back to the system when freed. glibc's default threshold grows up to 32 MiB after the first
// large free, after which 28 MB volumes come from the heap and their freed space stays resident:
// a 1 mm registration peaked 60-110 MB higher (576-624 against 515 MB).
_ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
#endif

Voxterm.main()
