package protect

import (
	"context"

	"github.com/callguard/callguard/server"
)

// PlaceHold places a hold for the dpo p (see store.PlaceHold), audited in
// the same transaction with its reason, owner and what it covers; the
// audit holds a number masked and as its keyed hash, never whole.
func (s *Service) PlaceHold(ctx context.Context, p server.Principal, h server.Hold) (server.Hold, error) {
	req := h
	err := s.audited(ctx, p, func(ctx context.Context) (entry, error) {
		var err error
		h, err = s.o.Store.PlaceHold(ctx, req, p.Username)
		d := map[string]any{"hold": h.ID, "reason": h.Reason, "owner": h.Owner, "number": server.MaskNumber(h.Number), "number_hmac": "", "agent": h.Agent, "calls": h.Calls}
		if server.NumberKey(h.Number) != "" {
			d["number_hmac"] = server.NumberHMAC(s.o.NumberSecret, h.Number)
		}
		return entry{server.AuditHoldPlace, server.HoldTarget(h), d}, err
	})
	return h, err
}
