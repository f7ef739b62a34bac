// Package config loads the officer's settings and the machine-wide settings IT
// deploys, from the per-OS locations, and merges them so that IT's managed
// values win. It holds no secrets: passwords and tokens live in the OS keyring
// (package secrets), and Load refuses a file that tries to carry one.
package config
