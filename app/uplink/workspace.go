package uplink

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// WorkspaceLink asks the server for a one-time link that opens its web
// workspace in a browser already signed in as this device's account
// (supervisors, dpos and admins; valid once, for 60 seconds). The link
// must point at the server this client talks to: one elsewhere is refused.
func (c *Client) WorkspaceLink(ctx context.Context) (string, error) {
	var l struct {
		URL string `json:"url"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/workspace/link", nil, &l, 30*time.Second); err != nil {
		return "", err
	}
	got, err := url.Parse(l.URL)
	base, berr := url.Parse(c.o.BaseURL)
	if err != nil || berr != nil || got.Host != base.Host || (got.Scheme != "https" && got.Scheme != "http") {
		return "", fmt.Errorf("the server's workspace link %q is not on %s", l.URL, c.o.BaseURL)
	}
	return l.URL, nil
}
