package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/callguard/callguard/server"
)

// numberKeysVersion is the migration that keys numbers in E.164.
const numberKeysVersion = 12

// taskRekeyNumbers is the store task migration 0012 leaves: key the
// stored numbers by server.NumberKey (E.164).
const taskRekeyNumbers = "rekey-numbers"

// rekeyNumbers keys the calls', holds' and erasures' numbers by
// server.NumberKey while the task of migration 0012 is there, and ends the
// task in the transaction of its last step. Each step computes a key from
// the row alone, so running it again after an interruption is harmless.
func (s *Store) rekeyNumbers(ctx context.Context) error {
	var n int
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM store_tasks WHERE name = ?`, taskRekeyNumbers).Scan(&n); err != nil {
		return fmt.Errorf("re-key numbers: %w", err)
	}
	if n == 0 {
		return nil
	}
	s.log.Info("keying the stored phone numbers in E.164")
	type row struct{ id, number, key string }
	last := ""
	for {
		var batch []row
		rows, err := s.query(ctx, s.db, `SELECT id, remote_number, remote_key FROM calls WHERE id > ? AND remote_number <> '' ORDER BY id LIMIT 1000`, last)
		if err == nil {
			err = eachRow(rows, func(rows *sql.Rows) error {
				var r row
				if err := rows.Scan(&r.id, &r.number, &r.key); err != nil {
					return err
				}
				batch = append(batch, r)
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("re-key the calls' numbers: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			for _, r := range batch {
				if k := server.NumberKey(r.number); k != r.key {
					if _, err := s.exec(ctx, tx, `UPDATE calls SET remote_key = ? WHERE id = ?`, k, r.id); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("re-key the calls' numbers: %w", err)
		}
		last = batch[len(batch)-1].id
	}
	// Holds and erasures are few: one transaction, which ends the task.
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range []struct{ table, column string }{{"holds", "number"}, {"erasures", "number_key"}} {
			type keyed struct {
				id  int64
				key string
			}
			var keys []keyed
			rows, err := s.query(ctx, tx, `SELECT id, `+t.column+` FROM `+t.table+` WHERE `+t.column+` IS NOT NULL AND `+t.column+` <> ''`)
			if err == nil {
				err = eachRow(rows, func(r *sql.Rows) error {
					var x keyed
					if err := r.Scan(&x.id, &x.key); err != nil {
						return err
					}
					keys = append(keys, x)
					return nil
				})
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
			for _, x := range keys {
				if k := server.NumberKey(x.key); k != x.key {
					if _, err := s.exec(ctx, tx, `UPDATE `+t.table+` SET `+t.column+` = ? WHERE id = ?`, k, x.id); err != nil {
						return fmt.Errorf("%s: %w", t.table, err)
					}
				}
			}
		}
		_, err := s.exec(ctx, tx, `DELETE FROM store_tasks WHERE name = ?`, taskRekeyNumbers)
		return err
	})
	if err != nil {
		return fmt.Errorf("re-key numbers: %w", err)
	}
	return nil
}
