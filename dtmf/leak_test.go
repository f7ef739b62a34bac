package dtmf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNoKeyLeavesThePackage reads the package's source: no exported result,
// field or variable can carry a key, and the package can write nothing but
// the audio it is given (no logs, no files).
func TestNoKeyLeavesThePackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	allowedImports := []string{"errors", "fmt", "io", "math", "slices", "time"}
	// Exported fields may hold positions and kinds, never a character or a
	// number that could be a key.
	allowedFields := []string{"int64", "EventKind", "Interval"}
	var checked int
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(allowedImports, p) {
				t.Errorf("%s imports %q: the package must not log or write anything but the audio", f, p)
			}
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || d.Recv != nil && !exportedRecv(d.Recv) {
					continue
				}
				checked++
				name := d.Name.Name
				if d.Recv != nil {
					name = typeName(d.Recv.List[0].Type) + "." + name
				}
				if name == "EventKind.String" {
					continue // the kind's name: "tone-began", "tone-ended"
				}
				if d.Type.Results == nil {
					continue
				}
				for _, r := range d.Type.Results.List {
					if s := typeName(r.Type); strings.Contains(s, "string") || strings.Contains(s, "byte") || strings.Contains(s, "rune") || strings.Contains(s, "int8") {
						t.Errorf("%s returns %s: a key could leave the package through it", name, s)
					}
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					checked++
					for _, fld := range st.Fields.List {
						for _, n := range fld.Names {
							if n.IsExported() && !slices.Contains(allowedFields, typeName(fld.Type)) {
								t.Errorf("%s.%s is a %s: exported fields may only say where and what kind", ts.Name.Name, n.Name, typeName(fld.Type))
							}
						}
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d exported names: is the test reading the package?", checked)
	}
}

func exportedRecv(recv *ast.FieldList) bool {
	return ast.IsExported(strings.TrimPrefix(typeName(recv.List[0].Type), "*"))
}

func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return "*" + typeName(x.X)
	case *ast.ArrayType:
		return "[]" + typeName(x.Elt)
	case *ast.SelectorExpr:
		return typeName(x.X) + "." + x.Sel.Name
	case *ast.FuncType:
		return "func"
	case *ast.MapType:
		return "map[" + typeName(x.Key) + "]" + typeName(x.Value)
	default:
		return fmt.Sprintf("%T", e)
	}
}

// TestFormattingNeverShowsTheKey formats a Detector and a Masker in the
// middle of a tone, when they hold its key, every way a program might print
// or log them: the text is the same whichever key it is.
func TestFormattingNeverShowsTheKey(t *testing.T) {
	t.Parallel()
	const rate = 16000
	var first string
	for i := range keys {
		k := soxKeys(t, rate, []piece{{gap: 100 * time.Millisecond}, {tone: tone{key: keys[i], dur: 200 * time.Millisecond, level: -8}}}, 71)
		half := k.pcm[:len(k.pcm)-1600] // 100 ms into the tone
		d, _ := NewDetector(rate)
		d.Feed(nil, half)
		if !d.track.active || d.track.sym != int8(i) {
			t.Fatalf("key %c: the detector is not in the middle of the tone (%+v): the test proves nothing", keys[i], d.track)
		}
		var sink bytes.Buffer
		m, _ := NewMasker(&sink, rate, 1)
		m.Write(pcmToBytes(half))
		run, _ := NewRun(rate, DefaultRunTones, DefaultRunWithin)
		run.Tone(1600)
		var text strings.Builder
		for _, v := range []any{d, *d, m, *m} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
				fmt.Fprintf(&text, verb+"\n", v)
			}
			j, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			text.Write(j)
			for _, h := range []slog.Handler{slog.NewTextHandler(&text, nil), slog.NewJSONHandler(&text, nil)} {
				slog.New(h).Info("state", "v", v, "run", run)
			}
		}
		// The log lines carry the time: remove it.
		out := regexpTime.ReplaceAllString(text.String(), "")
		if i == 0 {
			first = out
			t.Logf("what is printed:\n%s", out[:min(len(out), 400)])
			continue
		}
		if out != first {
			t.Fatalf("key %c prints differently from key %c:\n%s\nvs\n%s", keys[i], keys[0], out, first)
		}
	}
}

var regexpTime = regexp.MustCompile(`time=\S+ |"time":"[^"]*",`)
