//go:build cgo && !windows && !darwin

package locale

/*
#include <stdlib.h>
#include <string.h>

// callguard_locale_fallback makes the locale variable that decides the
// messages' language (the first set of LC_ALL, LC_MESSAGES and LANG, as
// gettext and fyne read them) name en_GB.UTF-8 when it names C or POSIX,
// with or without a codeset or modifier. It runs before the Go runtime
// copies the environment: glibc replaces a set variable in place in the
// array the runtime then reads.
__attribute__((constructor)) static void callguard_locale_fallback(void) {
	static const char *keys[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(keys[i]);
		if (v == NULL || v[0] == '\0') {
			continue;
		}
		size_t n = strcspn(v, ".@");
		if ((n == 1 && v[0] == 'C') || (n == 5 && strncmp(v, "POSIX", 5) == 0)) {
			setenv(keys[i], "en_GB.UTF-8", 1);
		}
		return;
	}
}
*/
import "C"
