package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/callguard/callguard/server"
)

// workspaceVersion is the migration that adds the calls' numbers in E.164.
const workspaceVersion = 5

// fillE164 sets the E.164 numbers of the calls stored before migration
// 0005 (SQL cannot run server.E164), in batches.
func (s *Store) fillE164(ctx context.Context) error {
	type row struct{ id, remote, local string }
	last := ""
	for {
		rows, err := s.query(ctx, s.db, `SELECT id, remote_number, local_number FROM calls WHERE id > ? AND personal_deleted_at IS NULL
			AND (remote_number <> '' OR local_number <> '') ORDER BY id LIMIT 1000`, last)
		if err != nil {
			return fmt.Errorf("fill E.164 numbers: %w", err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.remote, &r.local); err != nil {
				rows.Close()
				return fmt.Errorf("fill E.164 numbers: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("fill E.164 numbers: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			for _, r := range batch {
				if _, err := s.exec(ctx, tx, `UPDATE calls SET remote_e164 = ?, local_e164 = ? WHERE id = ?`,
					server.E164OrEmpty(r.remote), server.E164OrEmpty(r.local), r.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("fill E.164 numbers: %w", err)
		}
		last = batch[len(batch)-1].id
	}
}

// callConditions adds to where and args the conditions of f's workspace
// fields (E.164 number, team, direction, flag, category, recording, the
// keyset cursor).
func callConditions(f server.CallFilter, where []string, args []any) ([]string, []any) {
	if f.E164 != "" {
		// Two indexed equalities rather than one OR over both columns.
		where = append(where, `(c.id IN (SELECT id FROM calls WHERE remote_e164 = ?) OR c.id IN (SELECT id FROM calls WHERE local_e164 = ?))`)
		args = append(args, f.E164, f.E164)
	}
	if f.Team != "" {
		// EXISTS, not IN: an IN list would drive the query through the
		// agent index and sort every call of the team; this keeps the
		// newest-first index, which stops at the page's last call.
		where = append(where, `EXISTS (SELECT 1 FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.name = ? AND tm.username = c.agent)`)
		args = append(args, f.Team)
	}
	if f.Direction != "" {
		where = append(where, `c.direction = ?`)
		args = append(args, f.Direction)
	}
	switch f.Flag {
	case "":
	case server.FlagAny:
		where = append(where, `EXISTS (SELECT 1 FROM call_flags fl WHERE fl.call_id = c.id AND fl.kind = 'flag')`)
	default:
		where = append(where, `EXISTS (SELECT 1 FROM call_flags fl WHERE fl.call_id = c.id AND fl.kind = 'flag' AND fl.reason = ?)`)
		args = append(args, f.Flag)
	}
	if f.Category != "" {
		where = append(where, `c.retention_rule = ?`)
		args = append(args, f.Category)
	}
	switch f.Recording {
	case server.RecordingYes:
		where = append(where, `r.status = 'stored'`)
	case server.RecordingNo:
		where = append(where, `(r.status IS NULL OR r.status <> 'stored')`)
	}
	if f.After != nil {
		at := ms(f.After.Started)
		// The range on started_at alone uses the index; the rest breaks ties.
		where = append(where, `c.started_at <= ? AND (c.started_at < ? OR c.id > ?)`)
		args = append(args, at, at, f.After.ID)
	}
	return where, args
}
