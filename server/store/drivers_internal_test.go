package store

import (
	"errors"
	"testing"
)

func TestADriverNotLinkedIsSaidSo(t *testing.T) {
	if err := requireDriver("sqlite"); err != nil {
		t.Fatalf("sqlite is linked into the tests: %v", err)
	}
	err := requireDriver("no-such-driver")
	if !errors.Is(err, ErrNoDriver) {
		t.Fatalf("requireDriver(unknown) = %v, want ErrNoDriver", err)
	}
}
