// glibc's malloc.h (mallopt, M_MMAP_THRESHOLD), which the Glibc module does not export.
#if defined(__linux__)
#include <malloc.h>
#endif
