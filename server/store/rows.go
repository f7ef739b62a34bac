package store

import "database/sql"

// eachRow calls scan once for each row, then closes rows. It returns the
// first error of scan or of the iteration itself, so no loop over a query
// can leave its rows open or miss rows.Err.
func eachRow(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanStrings reads a one-column query of strings (call ids, mostly).
func scanStrings(rows *sql.Rows) ([]string, error) {
	var out []string
	err := eachRow(rows, func(r *sql.Rows) error {
		var s string
		if err := r.Scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// scanAll reads every row with scan, in order, then closes rows. An empty
// result is an empty slice, never nil, so it encodes as [].
func scanAll[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	out := []T{}
	err := eachRow(rows, func(r *sql.Rows) error {
		v, err := scan(r)
		if err == nil {
			out = append(out, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
