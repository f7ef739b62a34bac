package packaging_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/callguard/callguard/app/config"
)

// The group-policy template sets, under the key the app reads, exactly the
// values the app knows, and every string and control it refers to exists.
func TestGroupPolicyTemplate(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "packaging", "windows", "admx")
	admxRaw, err := os.ReadFile(filepath.Join(dir, "callguard.admx"))
	if err != nil {
		t.Fatal(err)
	}
	admlRaw, err := os.ReadFile(filepath.Join(dir, "en-US", "callguard.adml"))
	if err != nil {
		t.Fatal(err)
	}
	type element struct {
		XMLName   xml.Name
		ID        string `xml:"id,attr"`
		ValueName string `xml:"valueName,attr"`
	}
	var admx struct {
		Policies []struct {
			Name         string `xml:"name,attr"`
			Class        string `xml:"class,attr"`
			Key          string `xml:"key,attr"`
			Presentation string `xml:"presentation,attr"`
			Elements     struct {
				All []element `xml:",any"`
			} `xml:"elements"`
		} `xml:"policies>policy"`
	}
	if err := xml.Unmarshal(admxRaw, &admx); err != nil {
		t.Fatalf("callguard.admx: %v", err)
	}
	var adml struct {
		Strings []struct {
			ID string `xml:"id,attr"`
		} `xml:"resources>stringTable>string"`
		Presentations []struct {
			ID       string `xml:"id,attr"`
			Controls []struct {
				RefID string `xml:"refId,attr"`
			} `xml:",any"`
		} `xml:"resources>presentationTable>presentation"`
	}
	if err := xml.Unmarshal(admlRaw, &adml); err != nil {
		t.Fatalf("callguard.adml: %v", err)
	}
	stringIDs := map[string]bool{}
	for _, s := range adml.Strings {
		stringIDs[s.ID] = true
	}
	controls := map[string][]string{} // presentation → refIds
	for _, p := range adml.Presentations {
		for _, c := range p.Controls {
			controls[p.ID] = append(controls[p.ID], c.RefID)
		}
	}
	for _, ref := range regexp.MustCompile(`\$\(string\.(\w+)\)`).FindAllStringSubmatch(string(admxRaw), -1) {
		if !stringIDs[ref[1]] {
			t.Errorf("callguard.admx refers to string %s, which callguard.adml lacks", ref[1])
		}
	}

	var valueNames []string
	for _, p := range admx.Policies {
		if p.Class != "Machine" || p.Key != config.WindowsPolicyKey {
			t.Errorf("policy %s: class %s, key %s; want Machine and %s", p.Name, p.Class, p.Key, config.WindowsPolicyKey)
		}
		pres := strings.TrimSuffix(strings.TrimPrefix(p.Presentation, "$(presentation."), ")")
		for _, e := range p.Elements.All {
			valueNames = append(valueNames, e.ValueName)
			if !contains(controls[pres], e.ID) {
				t.Errorf("policy %s: element %s has no control in presentation %s (%v)", p.Name, e.ID, pres, controls[pres])
			}
			// Lists are REG_MULTI_SZ (multiText), which the app reads item by item.
			if e.ValueName == config.ValueRecipient || e.ValueName == config.ValueAllowedOrigins {
				if e.XMLName.Local != "multiText" {
					t.Errorf("policy %s writes %s with <%s>, want <multiText>", p.Name, e.ValueName, e.XMLName.Local)
				}
			}
		}
	}
	sort.Strings(valueNames)
	names := config.ManagedValueNames()
	sort.Strings(names)
	if strings.Join(valueNames, " ") != strings.Join(names, " ") {
		t.Errorf("the template sets %v, want every managed value %v", valueNames, names)
	}
	// What the policies write is what the app accepts.
	values := map[string][]string{}
	for _, n := range valueNames {
		values[n] = []string{"x"}
	}
	delete(values, config.ValueLocalAPIPort)
	if _, err := config.ManagedFromValues("admx", values); err != nil {
		t.Errorf("the app would refuse values the template writes: %v", err)
	}
}
