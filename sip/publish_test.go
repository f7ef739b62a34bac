package sip

import (
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

// Kamailio merges the dialogs of every publication of the extension into
// one document. Two publishers (SIPp sending PUBLISH, as the two legs of a
// call do) replay the sequences that made callguard invent calls: one
// dialog listed twice, a later "trying" for a confirmed dialog, a stale
// "confirmed" after "terminated", and versions 57, 58, 59 going
// terminated, confirmed, terminated. Each is one call, and no state goes
// back. (Kamailio numbers the NOTIFYs itself, so versions out of order are
// replayed by TestOutOfOrderVersionAsksForTheFullState.)
func TestPublishedSequencesOnKamailio(t *testing.T) {
	type step struct {
		pub     int // which publisher: 0 or 1
		body    string
		expires time.Duration
		want    []string
	}
	const live = time.Minute
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a dialog listed twice in one document, and a later trying", []step{
			{0, dialogDoc(1, true, "1:trying", "1:confirmed"), live, []string{"answered A inbound 077009001"}},
			{0, dialogDoc(2, true, "1:confirmed", "1:trying"), live, nil},
			{0, dialogDoc(3, true, "1:trying"), live, nil},
			{0, dialogDoc(4, true, "1:terminated", "1:confirmed"), live, []string{"ended A inbound 077009001"}},
		}},
		{"a stale confirmed after terminated, beside a real call", []step{
			{0, dialogDoc(1, true, "1:confirmed"), live, []string{"answered A inbound 077009001"}},
			{0, dialogDoc(2, true, "1:terminated"), live, []string{"ended A inbound 077009001"}},
			{0, "", 0, nil},
			{1, dialogDoc(1, true, "2:early", "1:confirmed"), live, []string{"ringing B inbound 077009002"}},
			{1, dialogDoc(2, true, "2:confirmed", "1:confirmed"), live, []string{"answered B inbound 077009002"}},
			{1, dialogDoc(3, true, "2:terminated", "1:confirmed"), live, []string{"ended B inbound 077009002"}},
		}},
		{"versions 57, 58, 59: terminated, confirmed, terminated", []step{
			{0, dialogDoc(56, true, "1:confirmed"), live, []string{"answered A inbound 077009001"}},
			{0, dialogDoc(57, true, "1:terminated"), live, []string{"ended A inbound 077009001"}},
			// Kamailio lets no publication change after "terminated": the
			// late copy comes from the other leg, once the first is gone.
			{0, "", 0, nil},
			{1, dialogDoc(58, true, "1:confirmed"), live, nil},
			{1, dialogDoc(59, true, "1:terminated"), live, nil},
		}},
		{"a dialog missing from the full state ends once the next one lacks it too", []step{
			{0, dialogDoc(1, true, "1:confirmed"), live, []string{"answered A inbound 077009001"}},
			{1, dialogDoc(1, true, "2:early"), live, []string{"ringing B inbound 077009002"}},
			// Kamailio sends no NOTIFY for a withdrawal; the next change of
			// the other publication shows A missing, and the full state
			// callguard asks for at once confirms it.
			{0, "", 0, nil},
			{1, dialogDoc(2, true, "2:confirmed"), live, []string{"answered B inbound 077009002", "ended A inbound 077009001 gone"}},
			{1, dialogDoc(3, true, "2:terminated"), live, []string{"ended B inbound 077009002"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pbx := testrig.Kamailio(t, testrig.KamailioOptions{})
			w := watch(t, cfgFor(pbx, "udp"), fastOptions()...)
			w.expect(t, 5*time.Second, "link-up")
			pubs := []*testrig.Publisher{pbx.Publisher(officer), pbx.Publisher(officer)}
			for _, st := range tc.steps {
				if st.body == "" {
					pubs[st.pub].Withdraw(t)
				} else {
					pubs[st.pub].Publish(t, st.body, st.expires)
				}
				if len(st.want) > 0 {
					w.expect(t, 5*time.Second, st.want...)
				}
				// Nothing else: no second call, no state going back. Long
				// enough for the NOTIFY and a full state asked for after it.
				w.quiet(t, 700*time.Millisecond)
			}
		})
	}
}
