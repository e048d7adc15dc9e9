/*
 * test/sanitizer/swift_demangle.c: preloaded beside the AddressSanitizer
 * runtime by `make test SANITIZE=1` (test/common.sh).
 *
 * PostgreSQL itself is not instrumented, so the runtime is preloaded and
 * initialises at the first malloc, which comes from libgpg-error's
 * constructor while it holds gettext's lock (bindtextdomain). Initialising,
 * the runtime looks up the optional symbol swift_demangle with dlsym; the
 * failed lookup formats its message through gettext, which waits for that
 * same lock: every server process hangs before main. Defining the symbol
 * makes the lookup succeed. It is called only to demangle Swift names in
 * reports, and NULL means "not demangled".
 */
#include <stddef.h>
#include <stdint.h>

char	   *swift_demangle(const char *mangled, size_t length, char *out, size_t *out_length,
						   uint32_t flags);

char *
swift_demangle(const char *mangled, size_t length, char *out, size_t *out_length, uint32_t flags)
{
	return NULL;
}
