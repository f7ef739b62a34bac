package locale

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	// fyne's lang package reads the locale at initialisation and logs
	// what it cannot parse: linked here, it shows whether the fallback came
	// first.
	_ "fyne.io/fyne/v2/lang"
)

// TestReportEnv is the child of TestFallback: it prints the locale
// variables as this process sees them.
func TestReportEnv(t *testing.T) {
	if os.Getenv("CALLGUARD_LOCALE_CHILD") != "1" {
		t.Skip("run by TestFallback")
	}
	got := map[string]string{}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			got[k] = v
		}
	}
	b, _ := json.Marshal(got)
	fmt.Println("ENV " + string(b))
}

// Each environment is given to a fresh process: what Go code and fyne then
// see is the fallback, and fyne logs nothing.
func TestFallback(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"C.UTF-8 in LANG becomes British English", map[string]string{"LANG": "C.UTF-8"}, map[string]string{"LANG": Fallback}},
		{"plain C", map[string]string{"LANG": "C"}, map[string]string{"LANG": Fallback}},
		{"POSIX in LC_ALL, over a real LANG", map[string]string{"LC_ALL": "POSIX", "LANG": "de_DE.UTF-8"}, map[string]string{"LC_ALL": Fallback, "LANG": "de_DE.UTF-8"}},
		{"a real LC_MESSAGES is left alone", map[string]string{"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "C"}, map[string]string{"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "C"}},
		{"a real LANG is left alone", map[string]string{"LANG": "en_US.UTF-8"}, map[string]string{"LANG": "en_US.UTF-8"}},
		{"nothing set is left alone", map[string]string{}, map[string]string{}},
		{"a name that starts with C is not C", map[string]string{"LANG": "ca_ES.UTF-8"}, map[string]string{"LANG": "ca_ES.UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestReportEnv$", "-test.v")
			cmd.Env = []string{"CALLGUARD_LOCALE_CHILD=1", "PATH=" + os.Getenv("PATH")}
			for k, v := range tt.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s%s", err, out, stderr.String())
			}
			if strings.Contains(string(out)+stderr.String(), "Fyne error") {
				t.Errorf("fyne complained:\n%s%s", out, stderr.String())
			}
			_, line, ok := strings.Cut(string(out), "ENV ")
			if !ok {
				t.Fatalf("child printed no environment:\n%s", out)
			}
			line, _, _ = strings.Cut(line, "\n")
			var got map[string]string
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("child saw %v, want %v", got, tt.want)
			}
		})
	}
}
