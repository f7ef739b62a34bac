package rtpengine

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/callguard/callguard/rtpengine/bencode"
)

// Call is what rtpengine's "query" says of a call.
type Call struct {
	ID      string
	Created time.Time // when rtpengine saw the call's first offer
	// Tags are the call's parties by SIP tag: the From tag of the caller
	// (the offer) and the To tag of the called party (the answer).
	Tags map[string]Tag
}

// Tag is one party of a call.
type Tag struct {
	Name    string
	Streams []Stream
}

// Stream is one media port rtpengine holds for a party.
type Stream struct {
	Media    string         // "audio", "video"
	RTCP     bool           // an RTCP port rather than RTP
	Local    netip.AddrPort // where rtpengine receives this party's packets
	Endpoint netip.AddrPort // the party's address, as rtpengine learnt it
	Packets  int64          // packets received so far
}

// ReceivesFrom returns the addresses at which rtpengine receives the RTP
// of party tag: in rtpengine's recordings, the packets sent to these came
// from that party. It is how a recording's two directions are told apart.
func (c *Call) ReceivesFrom(tag string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range c.Tags[tag].Streams {
		if !s.RTCP && s.Local.IsValid() {
			out = append(out, s.Local)
		}
	}
	return out
}

// TagNames returns the call's tags in sorted order.
func (c *Call) TagNames() []string {
	names := make([]string, 0, len(c.Tags))
	for n := range c.Tags {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func parseCall(id string, a bencode.Dict) (*Call, error) {
	c := &Call{ID: id, Tags: map[string]Tag{}}
	if s, ok := a.Int("created"); ok {
		us, _ := a.Int("created_us")
		c.Created = time.Unix(s, us*1000)
	}
	tags, ok := a.Dict("tags")
	if !ok {
		return nil, fmt.Errorf("%w: no tags", ErrBadAnswer)
	}
	for name, v := range tags {
		td, ok := v.(bencode.Dict)
		if !ok {
			return nil, fmt.Errorf("%w: tag %q is a %T", ErrBadAnswer, name, v)
		}
		t := Tag{Name: name}
		medias, _ := td.List("medias")
		for _, mv := range medias {
			md, ok := mv.(bencode.Dict)
			if !ok {
				return nil, fmt.Errorf("%w: a media of tag %q is a %T", ErrBadAnswer, name, mv)
			}
			kind, _ := md.String("type")
			streams, _ := md.List("streams")
			for _, sv := range streams {
				sd, ok := sv.(bencode.Dict)
				if !ok {
					return nil, fmt.Errorf("%w: a stream of tag %q is a %T", ErrBadAnswer, name, sv)
				}
				t.Streams = append(t.Streams, parseStream(kind, sd))
			}
		}
		c.Tags[name] = t
	}
	return c, nil
}

func parseStream(media string, d bencode.Dict) Stream {
	s := Stream{Media: media}
	if flags, ok := d.List("flags"); ok {
		s.RTCP = slices.Contains(flags, any("RTCP"))
	}
	s.Local = addrPort(d, "local address", "local port")
	if ep, ok := d.Dict("endpoint"); ok {
		s.Endpoint = addrPort(ep, "address", "port")
	}
	if st, ok := d.Dict("stats"); ok {
		s.Packets, _ = st.Int("packets")
	}
	return s
}

func addrPort(d bencode.Dict, addrKey, portKey string) netip.AddrPort {
	a, _ := d.String(addrKey)
	p, _ := d.Int(portKey)
	ip, err := netip.ParseAddr(a)
	if err != nil || p <= 0 || p > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip, uint16(p))
}
