package uplink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/callguard/callguard/server"
)

// Errors of the data-protection calls; test them with errors.Is.
var (
	// ErrConflict: the item was decided meanwhile, a second dpo must act,
	// or the recording is not (yet) on the server.
	ErrConflict = errors.New("conflict: the server's state has moved on or a second dpo must act")
	// ErrGone: the recording was deleted (retention, review or erasure).
	ErrGone = errors.New("the recording was deleted")
	// ErrNoKey: the server has no organisation key, so it cannot play or
	// redact; downloading the encrypted file still works.
	ErrNoKey = errors.New("the server has no organisation key to decrypt recordings")
)

// MyFlags returns this device's account's flags of the last 30 days,
// newest first, with their outcome, for the officer's window.
func (c *Client) MyFlags(ctx context.Context) ([]server.FlagOutcome, error) {
	var r struct {
		Flags []server.FlagOutcome `json:"flags"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/flags/mine", nil, &r, 30*time.Second)
	return r.Flags, err
}

// Review returns the review queue: state "" lists every item not done,
// "all" everything, or a state name (or a comma-separated list).
func (c *Client) Review(ctx context.Context, state string) (server.ReviewQueue, error) {
	var q server.ReviewQueue
	v := url.Values{}
	if state != "" {
		v.Set("state", state)
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/review?"+v.Encode(), nil, &q, 30*time.Second)
	return q, err
}

// Decide records a decision on a review item; with the two-person rule a
// deletion then waits for Approve by another dpo.
func (c *Client) Decide(ctx context.Context, itemID string, d server.Decision) (server.ReviewItem, error) {
	var it server.ReviewItem
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/review/"+url.PathEscape(itemID)+"/decide", d, &it, 5*time.Minute)
	return it, err
}

// Approve approves (carries out) or rejects another dpo's deletion.
func (c *Client) Approve(ctx context.Context, itemID string, approve bool) (server.ReviewItem, error) {
	var it server.ReviewItem
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/review/"+url.PathEscape(itemID)+"/approve", map[string]bool{"approve": approve}, &it, 5*time.Minute)
	return it, err
}

// Holds lists the active holds (all: lifted ones too) and whether lifting
// needs two dpos.
func (c *Client) Holds(ctx context.Context, all bool) ([]server.Hold, bool, error) {
	var r struct {
		Holds         []server.Hold `json:"holds"`
		TwoPersonLift bool          `json:"two_person_lift"`
	}
	path := "/api/v1/holds"
	if all {
		path += "?all=1"
	}
	err := c.do(ctx, http.MethodGet, path, nil, &r, 30*time.Second)
	return r.Holds, r.TwoPersonLift, err
}

// PlaceHold places a hold and returns it with how many calls it covers.
func (c *Client) PlaceHold(ctx context.Context, h server.Hold) (server.Hold, error) {
	var out server.Hold
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/holds", h, &out, 30*time.Second)
	return out, err
}

// LiftHold asks to lift a hold; lifted is false when a second dpo must
// lift it too (the policy's two_person_hold_lift).
func (c *Client) LiftHold(ctx context.Context, id int64, reason string) (h server.Hold, lifted bool, err error) {
	var r struct {
		Hold   server.Hold `json:"hold"`
		Lifted bool        `json:"lifted"`
	}
	err = c.doJSON(ctx, http.MethodPost, "/api/v1/holds/"+strconv.FormatInt(id, 10)+"/lift", map[string]string{"reason": reason}, &r, 30*time.Second)
	return r.Hold, r.Lifted, err
}

// RetentionReport returns the report for the next days (7 if 0).
func (c *Client) RetentionReport(ctx context.Context, days int) (server.RetentionReport, error) {
	if days <= 0 {
		days = 7
	}
	var r server.RetentionReport
	err := c.do(ctx, http.MethodGet, "/api/v1/retention/report?days="+strconv.Itoa(days), nil, &r, 60*time.Second)
	return r, err
}

// doJSON is do with a body encoded as JSON.
func (c *Client) doJSON(ctx context.Context, method, path string, body, out any, timeout time.Duration) error {
	b, err := jsonMarshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, b, out, timeout)
}

// PlayRecording opens the call's recording as the server decrypts it for
// a listener (GET /api/v1/recordings/{id}/play, audited on the server as a
// play): the body streams Ogg Opus or a WAV, as contentType says. The
// caller reads it while it plays and closes it; nothing of it is kept.
func (c *Client) PlayRecording(ctx context.Context, callID string) (body io.ReadCloser, contentType string, err error) {
	req, err := c.request(ctx, http.MethodGet, "/api/v1/recordings/"+url.PathEscape(callID)+"/play", nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		return nil, "", c.finish(resp, err, nil)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, "", fmt.Errorf("play %s: the server answered %s", callID, resp.Status)
	}
	c.setStatus(func(s *Status) { s.Online, s.LastError = true, "" })
	return resp.Body, resp.Header.Get("Content-Type"), nil
}
