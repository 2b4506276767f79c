package schemas

import (
	"slices"
	"testing"
)

// DatasetsOf finds a field or a group by its whole dotted name: a name cut
// inside a part is no field.
func TestDatasetsOf(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool // a DNS event carries it
		none bool // no field has that name
	}{
		{"dns.question.name", true, false},
		{"dns.question", true, false},
		{"dns", true, false},
		{"dns.question.na", false, true},
		{"dn", false, true},
		{"timestamp", true, false},
		{"http.request.method", false, false},
	} {
		got := DatasetsOf(c.name)
		if (got == nil) != c.none || slices.Contains(got, DatasetDNS) != c.want {
			t.Errorf("DatasetsOf(%q) = %v", c.name, got)
		}
	}
}
