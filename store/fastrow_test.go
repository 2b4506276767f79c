package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// fastSeeds are documents fastDecode takes (the fleet's events, flows) and
// some it must leave to encoding/json.
func fastSeeds(t testing.TB) (take, leave []string) {
	for _, r := range storetest.Fleet(t, t0) {
		if r.Dataset != schemas.DatasetTimeseries && r.Dataset != schemas.DatasetStats {
			take = append(take, string(r.JSON))
		}
	}
	for _, f := range makeFlows(5) {
		take = append(take, string(record(t, f.event()).JSON))
	}
	take = append(take, `{}`, ` {"source":null,"event":{"severity":-3,"start":null}, "x":[1,-0.5e+3,true,false,null,"\u00e9\n",{}]} `,
		`{"observer":{"name":"kénig"},"Other":1}`, `{"destination":{"geo":{"country_iso_code":"DE"},"GEO":5},"source":{"geo":{"country_iso_code":"FR"}}}`, `{"source":{"ip":"a"},"source":{"port":7}}`, `null`)
	leave = []string{
		``, `[]`, `{"a":1,}`, `{"a":01}`, `{"a":1} x`, `{"source":{"port":80.0}}`, `{"source":{"port":"80"}}`,
		`{"source":{"port":1e2}}`, `{"Source":{"port":1}}`, `{"sour\u0063e":{"port":1}}`, `{"observer":{"name":"a\"b"}}`,
		`{"observer":{"name":"\xff"}}`, `{"@timestamp":"yesterday"}`, `{"packetsleuth":{"traffic":{"packets":1}}}`,
		`{"network":{"bytes":99999999999999999999}}`, `{"rule":5}`, `{"a":"` + "\x01" + `"}`,
	}
	return take, leave
}

// fastDecode takes the usual events and decodes them as encoding/json does;
// what it leaves goes to encoding/json.
func TestFastDecode(t *testing.T) {
	take, leave := fastSeeds(t)
	for _, doc := range take {
		var fast, slow row
		if !fast.fastDecode([]byte(doc)) {
			t.Errorf("left to encoding/json: %s", doc)
			continue
		}
		if err := json.Unmarshal([]byte(doc), &slow); err != nil || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s:\nfast %+v\njson %+v (%v)", doc, fast, slow, err)
		}
	}
	for _, doc := range leave {
		var r row
		if r.fastDecode([]byte(doc)) {
			t.Errorf("decoded, though encoding/json should: %q", doc)
		}
	}
	var r row
	if !r.fastDecode([]byte(take[0])) || r.Timestamp != t0 || r.sensorName() != "edge-a" {
		t.Errorf("fleet's first event: %+v", r)
	}
}

// Whatever fastDecode decodes, encoding/json decodes without error to the
// same row.
func FuzzFastDecode(f *testing.F) {
	take, leave := fastSeeds(f)
	for _, d := range append(take, leave...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var fast, slow row
		if !fast.fastDecode(doc) {
			return
		}
		if err := json.Unmarshal(doc, &slow); err != nil {
			t.Fatalf("fastDecode took what encoding/json refuses (%v): %q", err, doc)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\njson %+v", doc, fast, slow)
		}
	})
}
