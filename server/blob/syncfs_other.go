//go:build !linux

package blob

// syncFS is not available here: the caller fsyncs each directory.
func syncFS(string) (bool, error) { return false, nil }
