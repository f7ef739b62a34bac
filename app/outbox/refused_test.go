package outbox

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRefusedEventsAreKeptAsideAcrossRestarts: an event the server refused
// is set aside durably, once however often it is set aside, survives a
// restart and a torn write at the end of its file, and no longer waits.
func TestRefusedEventsAreKeptAsideAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	o, err := Open(dir, "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := o.Append(event(i)); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := o.Peek(5)
	// The server refused the second and the fourth; the batch is answered.
	for _, i := range []int{1, 3, 1} {
		if err := o.SetAside(evs[i], "call.remote.name is 300 bytes, at most 256"); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Ack(evs[4].Seq); err != nil {
		t.Fatal(err)
	}
	if o.Refused() != 2 || o.Pending() != 0 {
		t.Fatalf("refused %d, pending %d", o.Refused(), o.Pending())
	}
	o.Close()

	// A crash tore a record being set aside.
	f, _ := os.OpenFile(filepath.Join(dir, refusedName), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{42, 0, 0, 0, 1, 2})
	f.Close()
	o = mustOpen(t, dir)
	if o.Refused() != 2 || o.Pending() != 0 {
		t.Fatalf("after a restart: refused %d, pending %d", o.Refused(), o.Pending())
	}
	kept, err := o.RefusedEvents()
	if err != nil || len(kept) != 2 || kept[0].Event.ID != evs[1].ID || kept[1].Event.ID != evs[3].ID || kept[0].Reason == "" || kept[0].Event.Seq != evs[1].Seq {
		t.Fatalf("kept aside: %+v, %v", kept, err)
	}
	// Appending goes on after the cut tail.
	if err := o.SetAside(event(9), "unknown event type"); err != nil || o.Refused() != 3 {
		t.Fatalf("set aside after a torn tail: %v, %d", err, o.Refused())
	}
	o.Close()
	if err := o.SetAside(event(10), "x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestAFailedSetAsideLeavesNoRecord: when the disk refuses the write, the
// caller is told, and nothing half-written is counted.
func TestAFailedSetAsideLeavesNoRecord(t *testing.T) {
	dir := t.TempDir()
	o := mustOpen(t, dir)
	o.sync = func(*os.File) error { return errors.New("disk full") }
	if err := o.SetAside(event(1), "x"); err == nil || o.Refused() != 0 {
		t.Fatalf("failed set aside: %v, %d", err, o.Refused())
	}
	if fi, _ := os.Stat(filepath.Join(dir, refusedName)); fi.Size() != 0 {
		t.Fatalf("%d bytes left behind", fi.Size())
	}
}
