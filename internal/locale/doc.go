// Package locale gives the GUI toolkit a language it can read: under the C
// or POSIX locale (C.UTF-8 is the default of many Linux installs and
// containers) fyne logs "Error parsing user locale C" at every start, so
// callguard falls back to British English instead, quietly.
//
// fyne reads the locale in its own package initialisation, before any Go
// code of callguard runs, so the fallback is made by a C constructor that
// runs when the program is loaded (Linux and the BSDs, where the locale
// comes from the environment; Windows and macOS ask the OS). Import the
// package for its effect from main. It changes only this process's
// environment, never the system's.
package locale

// Fallback is the locale set when the environment names only C or POSIX.
const Fallback = "en_GB.UTF-8"
