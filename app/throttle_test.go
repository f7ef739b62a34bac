package app

import (
	"testing"
	"time"
)

func TestThrottleShowsEachSituationOnceAndSpacesBursts(t *testing.T) {
	now := t0
	got := &fakeNotifier{}
	th := NewThrottle(got, 30*time.Second, func() time.Time { return now })
	send := func(k NotificationKind, key string) { th.Notify(Notification{Kind: k, Key: key}) }

	send(NotifyStateUnknown, "loss-1")
	send(NotifyStateUnknown, "loss-1") // same situation
	now = now.Add(10 * time.Second)
	send(NotifyStateUnknown, "loss-2") // a flap within the quiet period
	send(NotifyRecordingFailed, "call-1")
	now = now.Add(31 * time.Second)
	send(NotifyStateUnknown, "loss-3")
	send(NotifyStateUnknown, "loss-1") // shown before: never again

	want := []NotificationKind{NotifyStateUnknown, NotifyRecordingFailed, NotifyStateUnknown}
	if k := got.kinds(); len(k) != len(want) || k[0] != want[0] || k[1] != want[1] || k[2] != want[2] {
		t.Fatalf("shown %v, want %v", k, want)
	}
}
