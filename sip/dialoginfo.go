package sip

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// ErrMalformed marks a dialog-info body that cannot be used.
var ErrMalformed = errors.New("malformed dialog-info")

// Limits that keep a hostile or broken body from costing much.
const (
	maxBodySize = 256 << 10
	maxDialogs  = 256
)

// DialogInfo is an RFC 4235 dialog-info document: the dialogs of one
// address of record, as the phone system reported them in one NOTIFY.
type DialogInfo struct {
	Version uint64   // orders documents within a subscription
	Full    bool     // state="full": Dialogs is the whole state; else only changes
	Entity  string   // the address of record the document is about
	Dialogs []Dialog // in document order
}

// Dialog is one dialog element.
type Dialog struct {
	ID        string // the id attribute: stable for the dialog's life
	CallID    string
	LocalTag  string
	RemoteTag string
	Direction string // "initiator", "recipient" or ""
	State     string // lower case: trying, proceeding, early, confirmed, terminated
	Event     string // why it terminated, when given: cancelled, rejected, replaced, local-bye, remote-bye, error, timeout
	Code      int    // the SIP response code given with the state, if any
	Local     Participant
	Remote    Participant
}

// Participant is the local or remote element of a dialog.
type Participant struct {
	Identity string // URI
	Display  string // display name of the identity
	Target   string // URI of the target, if given
	// Rendering is the target's +sip.rendering parameter, lower case: "no"
	// on the local target means the officer's side put the call on hold
	// (RFC 4235 section 4.1.6.2); "" when not given.
	Rendering string
}

// Held reports whether the participant's target says it does not render
// the media: on the local participant, the officer put the call on hold.
func (p Participant) Held() bool { return p.Rendering == "no" }

// Number is the user part of the participant's identity (or, without one,
// of its target): an extension or a telephone number.
func (p Participant) Number() string {
	if n := uriUser(p.Identity); n != "" {
		return n
	}
	return uriUser(p.Target)
}

// URI is the identity URI, or the target when there is no identity.
func (p Participant) URI() string {
	if p.Identity != "" {
		return p.Identity
	}
	return p.Target
}

// ParseDialogInfo decodes an application/dialog-info+xml body. It never
// panics; whatever it cannot use is an error wrapping ErrMalformed. An empty
// body is a full document with no dialogs and version 0, which is what some
// phone systems (Kamailio among them) send when the extension has no calls.
func ParseDialogInfo(body []byte) (*DialogInfo, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return &DialogInfo{Full: true}, nil
	}
	if len(body) > maxBodySize {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrMalformed, len(body))
	}
	var doc xmlDialogInfo
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	// Bodies say ISO-8859-1 now and then; dialog-info is ASCII in practice.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if doc.XMLName.Local != "dialog-info" {
		return nil, fmt.Errorf("%w: root element %q", ErrMalformed, doc.XMLName.Local)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(doc.Version), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: version %q", ErrMalformed, doc.Version)
	}
	info := &DialogInfo{Version: v, Entity: strings.TrimSpace(doc.Entity)}
	switch strings.ToLower(strings.TrimSpace(doc.State)) {
	case "full":
		info.Full = true
	case "partial":
	default:
		return nil, fmt.Errorf("%w: state %q", ErrMalformed, doc.State)
	}
	if len(doc.Dialogs) > maxDialogs {
		return nil, fmt.Errorf("%w: %d dialogs", ErrMalformed, len(doc.Dialogs))
	}
	for _, d := range doc.Dialogs {
		dlg := Dialog{
			ID:        strings.TrimSpace(d.ID),
			CallID:    strings.TrimSpace(d.CallID),
			LocalTag:  strings.TrimSpace(d.LocalTag),
			RemoteTag: strings.TrimSpace(d.RemoteTag),
			Direction: strings.ToLower(strings.TrimSpace(d.Direction)),
			State:     strings.ToLower(strings.TrimSpace(d.State.Value)),
			Event:     strings.ToLower(strings.TrimSpace(d.State.Event)),
			Local:     d.Local.participant(),
			Remote:    d.Remote.participant(),
		}
		if c := strings.TrimSpace(d.State.Code); c != "" {
			if n, err := strconv.Atoi(c); err == nil && n >= 100 && n < 700 {
				dlg.Code = n
			}
		}
		if dlg.ID == "" {
			dlg.ID = dlg.CallID
		}
		if dlg.ID == "" {
			return nil, fmt.Errorf("%w: a dialog has neither id nor call-id", ErrMalformed)
		}
		switch dlg.State {
		case "trying", "proceeding", "early", "confirmed", "terminated":
		default:
			return nil, fmt.Errorf("%w: dialog %s has state %q", ErrMalformed, dlg.ID, d.State.Value)
		}
		info.Dialogs = append(info.Dialogs, dlg)
	}
	return info, nil
}

// uriUser returns the user part of a SIP, SIPS or tel URI ("1001" of
// "sip:1001@pbx;user=phone"), unescaped; "" when there is none.
func uriUser(uri string) string {
	s := strings.TrimSpace(uri)
	s = strings.TrimPrefix(strings.TrimSuffix(s, ">"), "<")
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "tel":
		rest, _, _ = strings.Cut(rest, ";")
	case "sip", "sips":
		at := strings.LastIndexByte(rest, '@')
		if at < 0 {
			return ""
		}
		rest = rest[:at]
		rest, _, _ = strings.Cut(rest, ";") // user parameters
		rest, _, _ = strings.Cut(rest, ":") // a password, never used but allowed
	default:
		return ""
	}
	if u, err := url.PathUnescape(rest); err == nil {
		return u
	}
	return rest
}

type xmlDialogInfo struct {
	XMLName xml.Name
	Version string      `xml:"version,attr"`
	State   string      `xml:"state,attr"`
	Entity  string      `xml:"entity,attr"`
	Dialogs []xmlDialog `xml:"dialog"`
}

type xmlDialog struct {
	ID        string `xml:"id,attr"`
	CallID    string `xml:"call-id,attr"`
	LocalTag  string `xml:"local-tag,attr"`
	RemoteTag string `xml:"remote-tag,attr"`
	Direction string `xml:"direction,attr"`
	State     struct {
		Value string `xml:",chardata"`
		Event string `xml:"event,attr"`
		Code  string `xml:"code,attr"`
	} `xml:"state"`
	Local  xmlParticipant `xml:"local"`
	Remote xmlParticipant `xml:"remote"`
}

type xmlParticipant struct {
	Identity struct {
		Value   string `xml:",chardata"`
		Display string `xml:"display,attr"`
	} `xml:"identity"`
	Target struct {
		URI    string `xml:"uri,attr"`
		Params []struct {
			Name  string `xml:"pname,attr"`
			Value string `xml:"pvalue,attr"`
		} `xml:"param"`
	} `xml:"target"`
}

func (p xmlParticipant) participant() Participant {
	out := Participant{
		Identity: strings.TrimSpace(p.Identity.Value),
		Display:  strings.TrimSpace(p.Identity.Display),
		Target:   strings.TrimSpace(p.Target.URI),
	}
	for _, prm := range p.Target.Params {
		if strings.EqualFold(strings.TrimSpace(prm.Name), "+sip.rendering") {
			out.Rendering = strings.ToLower(strings.Trim(strings.TrimSpace(prm.Value), `"`))
		}
	}
	return out
}
