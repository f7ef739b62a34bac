package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS makes every change on the file system that holds dir durable
// with one syncfs(2), rather than an fsync of each of the up to 256 shard
// directories a batch of deletions touched. ok is false when syncfs is not
// available and the caller must fsync the directories itself.
func syncFS(dir string) (ok bool, err error) {
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return false, nil
	}
	return true, nil
}
