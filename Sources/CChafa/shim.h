// libchafa (Debian libchafa-dev; its headers need glib's, libglib2.0-dev): sixel, kitty and
// Unicode-symbol encoding of RGBA pictures. Only Sources/Terminal/Chafa.swift imports this.
#include <chafa.h>
// g_string_free is a macro in newer glib: re-export it as a function.
static inline void voxterm_gstring_free(GString *s) { g_string_free(s, TRUE); }
