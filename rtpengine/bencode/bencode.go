package bencode

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Dict is a decoded dictionary. Values are string (a byte string, which
// may hold any bytes), int64, []any or Dict.
type Dict map[string]any

// String returns the byte string at key, and whether there was one.
func (d Dict) String(key string) (string, bool) {
	s, ok := d[key].(string)
	return s, ok
}

// Int returns the integer at key, and whether there was one.
func (d Dict) Int(key string) (int64, bool) {
	n, ok := d[key].(int64)
	return n, ok
}

// Dict returns the dictionary at key, and whether there was one.
func (d Dict) Dict(key string) (Dict, bool) {
	v, ok := d[key].(Dict)
	return v, ok
}

// List returns the list at key, and whether there was one.
func (d Dict) List(key string) ([]any, bool) {
	v, ok := d[key].([]any)
	return v, ok
}

// MaxDepth is how deeply lists and dictionaries may nest in decoded input.
const MaxDepth = 64

// ErrSyntax is wrapped by every decoding error.
var ErrSyntax = errors.New("bencode: malformed input")

// Marshal encodes v. It accepts string, []byte, the integer types, bool
// (as 1 or 0), []any, []string, Dict and map[string]any, nested in any
// way; dictionary keys are written in sorted order, as bencode requires.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encode(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case string:
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	case []byte:
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.Write(v)
	case int:
		writeInt(b, int64(v))
	case int64:
		writeInt(b, v)
	case int32:
		writeInt(b, int64(v))
	case uint16:
		writeInt(b, int64(v))
	case uint32:
		writeInt(b, int64(v))
	case bool:
		if v {
			writeInt(b, 1)
		} else {
			writeInt(b, 0)
		}
	case []string:
		b.WriteByte('l')
		for _, s := range v {
			if err := encode(b, s); err != nil {
				return err
			}
		}
		b.WriteByte('e')
	case []any:
		b.WriteByte('l')
		for _, item := range v {
			if err := encode(b, item); err != nil {
				return err
			}
		}
		b.WriteByte('e')
	case Dict:
		return encodeDict(b, v)
	case map[string]any:
		return encodeDict(b, v)
	default:
		return fmt.Errorf("bencode: cannot encode %T", v)
	}
	return nil
}

func writeInt(b *bytes.Buffer, n int64) {
	b.WriteByte('i')
	b.WriteString(strconv.FormatInt(n, 10))
	b.WriteByte('e')
}

func encodeDict(b *bytes.Buffer, d map[string]any) error {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('d')
	for _, k := range keys {
		encode(b, k)
		if err := encode(b, d[k]); err != nil {
			return fmt.Errorf("bencode: key %q: %w", k, err)
		}
	}
	b.WriteByte('e')
	return nil
}

// Unmarshal decodes one value that must fill data exactly.
func Unmarshal(data []byte) (any, error) {
	d := decoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(data) {
		return nil, d.errorf("%d bytes after the value", len(data)-d.pos)
	}
	return v, nil
}

// UnmarshalDict decodes data, which must be one dictionary.
func UnmarshalDict(data []byte) (Dict, error) {
	v, err := Unmarshal(data)
	if err != nil {
		return nil, err
	}
	d, ok := v.(Dict)
	if !ok {
		return nil, fmt.Errorf("%w: a %s, not a dictionary", ErrSyntax, kind(v))
	}
	return d, nil
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case []any:
		return "list"
	}
	return "dictionary"
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == 'i':
		d.pos++
		return d.integer('e')
	case c >= '0' && c <= '9':
		return d.str()
	case c == 'l':
		if depth >= MaxDepth {
			return nil, d.errorf("nested deeper than %d", MaxDepth)
		}
		d.pos++
		list := []any{}
		for {
			if d.pos >= len(d.data) {
				return nil, d.errorf("unterminated list")
			}
			if d.data[d.pos] == 'e' {
				d.pos++
				return list, nil
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case c == 'd':
		if depth >= MaxDepth {
			return nil, d.errorf("nested deeper than %d", MaxDepth)
		}
		d.pos++
		dict := Dict{}
		for {
			if d.pos >= len(d.data) {
				return nil, d.errorf("unterminated dictionary")
			}
			if d.data[d.pos] == 'e' {
				d.pos++
				return dict, nil
			}
			if c := d.data[d.pos]; c < '0' || c > '9' {
				return nil, d.errorf("dictionary key is not a string")
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if _, dup := dict[k]; dup {
				return nil, d.errorf("key %q twice", k)
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			dict[k] = v
		}
	default:
		return nil, d.errorf("unexpected %q", c)
	}
}

// integer reads digits up to end (the 'e' of an integer, the ':' of a
// string length), rejecting leading zeros and "-0".
func (d *decoder) integer(end byte) (int64, error) {
	i := bytes.IndexByte(d.data[d.pos:], end)
	if i < 0 {
		return 0, d.errorf("unterminated number")
	}
	digits := d.data[d.pos : d.pos+i]
	neg := len(digits) > 0 && digits[0] == '-'
	abs := digits
	if neg {
		abs = digits[1:]
	}
	if len(abs) == 0 || len(abs) > 1 && abs[0] == '0' || neg && abs[0] == '0' {
		return 0, d.errorf("malformed number %q", digits)
	}
	for _, c := range abs {
		if c < '0' || c > '9' {
			return 0, d.errorf("malformed number %q", digits)
		}
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, d.errorf("number %q out of range", digits)
	}
	d.pos += i + 1
	return n, nil
}

func (d *decoder) str() (string, error) {
	start := d.pos
	n, err := d.integer(':')
	if err != nil {
		return "", err
	}
	if n < 0 {
		d.pos = start
		return "", d.errorf("negative string length")
	}
	if n > int64(len(d.data)-d.pos) {
		return "", d.errorf("string of %d bytes, only %d left", n, len(d.data)-d.pos)
	}
	s := string(d.data[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s, nil
}
