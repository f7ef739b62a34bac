package sip

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseDialogInfoKamailio(t *testing.T) {
	info, err := ParseDialogInfo(readTestdata(t, "kamailio/02-inbound-early.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &DialogInfo{
		Version: 2, Full: true, Entity: "sip:1001@127.0.0.1",
		Dialogs: []Dialog{{
			ID: "padi-6b03860f-34a6-1", CallID: "1-13552@127.0.0.1",
			LocalTag: "13493phone1", RemoteTag: "13552caller1", Direction: "recipient", State: "early",
			Remote: Participant{Identity: "sip:3000@127.0.0.1", Target: "sip:3000@127.0.0.1:40594"},
			Local:  Participant{Identity: "sip:1001@127.0.0.1", Target: "sip:1001@127.0.0.1:39928"},
		}},
	}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got  %+v\nwant %+v", info, want)
	}
	if n := info.Dialogs[0].Remote.Number(); n != "3000" {
		t.Errorf("remote number %q, want 3000", n)
	}
}

func TestParseDialogInfoRFC4235(t *testing.T) {
	info, err := ParseDialogInfo(readTestdata(t, "rfc4235/full-display-names.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Dialogs) != 2 || info.Version != 7 || !info.Full {
		t.Fatalf("got %+v", info)
	}
	d := info.Dialogs[0]
	if d.Local.Number() != "1001" || d.Local.Display != "Help line" {
		t.Errorf("local %+v: number %q", d.Local, d.Local.Number())
	}
	if d.Remote.Number() != "+44-20-7946-0000" || d.Remote.Display != "Jo Bloggs" {
		t.Errorf("remote %+v: number %q", d.Remote, d.Remote.Number())
	}
	if n := info.Dialogs[1].Remote.Number(); n != "+441632960123" {
		t.Errorf("escaped user part: %q", n)
	}
	if s := info.Dialogs[1].State; s != "proceeding" {
		t.Errorf("state %q", s)
	}

	p, err := ParseDialogInfo(readTestdata(t, "rfc4235/partial-cancelled.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Full || p.Version != 8 || p.Dialogs[0].Event != "cancelled" || p.Dialogs[0].Code != 487 {
		t.Errorf("partial: %+v", p)
	}
}

// The officer's hold is the local target's +sip.rendering="no" (RFC 4235
// section 4.1.6.2); the remote's own parameter says nothing about it.
func TestParseDialogInfoHold(t *testing.T) {
	info, err := ParseDialogInfo(readTestdata(t, "rfc4235/held-local-target.xml"))
	if err != nil {
		t.Fatal(err)
	}
	d := info.Dialogs[0]
	if !d.Local.Held() || d.Local.Rendering != "no" {
		t.Errorf("local %+v not held", d.Local)
	}
	if d.Remote.Held() || d.Remote.Rendering != "yes" {
		t.Errorf("remote %+v: rendering %q", d.Remote, d.Remote.Rendering)
	}
	plain, err := ParseDialogInfo(readTestdata(t, "kamailio/03-inbound-confirmed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Dialogs[0].Local.Held() {
		t.Errorf("a target without parameters reads as held")
	}
}

func TestParseDialogInfoEveryCapturedBody(t *testing.T) {
	files, _ := filepath.Glob("testdata/kamailio/*.xml")
	if len(files) < 10 {
		t.Fatalf("only %d captured bodies", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		info, err := ParseDialogInfo(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !info.Full || len(info.Dialogs) == 0 {
			t.Errorf("%s: %+v", f, info)
		}
	}
}

func TestParseDialogInfoRejects(t *testing.T) {
	for name, body := range map[string]string{
		"unclosed":         string(readTestdata(t, "rfc4235/malformed-unclosed.xml")),
		"not xml":          "hello",
		"other root":       `<presence version="1" state="full"/>`,
		"no version":       `<dialog-info state="full"/>`,
		"negative version": `<dialog-info version="-1" state="full"/>`,
		"bad state":        `<dialog-info version="1" state="most"/>`,
		"dialog state":     `<dialog-info version="1" state="full"><dialog id="a"><state>ringing</state></dialog></dialog-info>`,
		"no dialog id":     `<dialog-info version="1" state="full"><dialog><state>early</state></dialog></dialog-info>`,
		"huge":             `<dialog-info version="1" state="full">` + strings.Repeat(" ", maxBodySize) + `</dialog-info>`,
		"too many dialogs": `<dialog-info version="1" state="full">` + strings.Repeat(`<dialog id="a"><state>early</state></dialog>`, maxDialogs+1) + `</dialog-info>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseDialogInfo([]byte(body)); !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseDialogInfoEmptyBody(t *testing.T) {
	info, err := ParseDialogInfo([]byte(" \r\n"))
	if err != nil || !info.Full || len(info.Dialogs) != 0 {
		t.Errorf("got %+v, %v", info, err)
	}
}

func TestURIUser(t *testing.T) {
	for uri, want := range map[string]string{
		"sip:1001@127.0.0.1:5060":      "1001",
		"<sips:alice@example.org>":     "alice",
		"sip:+4420@gw;user=phone":      "+4420",
		"sip:1001;phone-context=x@pbx": "1001",
		"tel:+44-20-7946-0000;ext=12":  "+44-20-7946-0000",
		"sip:127.0.0.1:5060":           "",
		"mailto:someone@example.org":   "",
		"garbage":                      "",
		"sip:%2B441632960123@trunk":    "+441632960123",
		"sip:user:secret@host":         "user",
		"sip:bad%zzescape@host":        "bad%zzescape",
	} {
		if got := uriUser(uri); got != want {
			t.Errorf("uriUser(%q) = %q, want %q", uri, got, want)
		}
	}
}

// FuzzParseDialogInfo: the parser never panics, and what it accepts is
// usable: known states, ids present, numbers derivable.
func FuzzParseDialogInfo(f *testing.F) {
	for _, pattern := range []string{"testdata/kamailio/*.xml", "testdata/rfc4235/*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := ParseDialogInfo(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		for _, d := range info.Dialogs {
			if d.ID == "" || phaseOf(d.State) == phaseNone {
				t.Fatalf("accepted an unusable dialog %+v", d)
			}
			_ = d.Local.Number()
			_ = d.Remote.Number()
		}
		// Whatever parses can be applied without panicking.
		newTracker(discard).apply(info, testTime)
	})
}
