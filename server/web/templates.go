package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// templates are the pages, each parsed together with the layout.
type templates map[string]*template.Template

// funcs are the helpers every template may use.
var funcs = template.FuncMap{
	"when":     when,
	"date":     func(t time.Time) string { return t.Local().Format("2 Jan 2006") },
	"duration": duration,
	"ms":       func(ms int64) string { return duration(time.Duration(ms) * time.Millisecond) },
}

// mustParse parses every templates/*.html but the layout with the layout.
func mustParse() templates {
	out := templates{}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t := template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html", n))
		out[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return out
}

// renderLayout renders template name with l as is (the sign-in page).
func (w *Web) renderLayout(rw http.ResponseWriter, r *http.Request, name string, l layout, status int) {
	var buf bytes.Buffer
	if err := w.tmpl[name].ExecuteTemplate(&buf, "layout", l); err != nil {
		w.o.Logger.Error("web template failed", "template", name, "err", err)
		http.Error(rw, "Something went wrong on the server.", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	rw.Write(buf.Bytes())
}

// when is a time as people in the UK write it, in the server's zone.
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.Local().Format("2 Jan 2006 15:04:05")
	case *time.Time:
		if v == nil || v.IsZero() {
			return "—"
		}
		return v.Local().Format("2 Jan 2006 15:04:05")
	}
	return fmt.Sprint(t)
}

// duration is "1 h 02 min", "4 min 05 s" or "12 s".
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %02d s", m, s)
	}
	return fmt.Sprintf("%d s", s)
}
