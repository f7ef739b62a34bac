package uplink

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/callguard/callguard/server"
)

// MyScores returns this device's officer's completed scores, newest
// first, with their comments, for "My calls": never a recording.
func (c *Client) MyScores(ctx context.Context) ([]server.OfficerScore, error) {
	var r struct {
		Scores []server.OfficerScore `json:"scores"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/scores/mine", nil, &r, 30*time.Second)
	return r.Scores, err
}

// CommentOnScore adds a comment (kind server.CommentNote) or a dispute
// (server.CommentDispute) to one of the officer's completed scores.
func (c *Client) CommentOnScore(ctx context.Context, scoreID int64, kind, text string) (server.ScoreComment, error) {
	var out server.ScoreComment
	body := map[string]string{"kind": kind, "text": text}
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/scores/"+strconv.FormatInt(scoreID, 10)+"/comments", body, &out, 30*time.Second)
	return out, err
}
