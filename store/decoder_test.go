package store

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// The rows a Decoder kept are the rows the store decodes itself, and the
// store takes them without reading the documents again.
func TestDecoderRowsAsDecoded(t *testing.T) {
	s := open(t, Config{Driver: SQLite, Path: filepath.Join(t.TempDir(), "ps.db")})
	plain := storetest.Fleet(t, t0)
	var d Decoder
	once := make([]schemas.Record, len(plain))
	for i, rec := range plain {
		once[i] = schemas.Record{Key: rec.Key, JSON: rec.JSON}
		if !d.Decode(rec.JSON, &once[i]) {
			t.Fatalf("not decoded: %s", rec.JSON)
		}
		if once[i].Dataset != rec.Dataset || once[i].Kind != rec.Kind || !once[i].Time.Equal(rec.Time) {
			t.Errorf("routed as %q %q %v, the sensor said %q %q %v", once[i].Dataset, once[i].Kind, once[i].Time, rec.Dataset, rec.Kind, rec.Time)
		}
	}
	wantRows, wantBuckets, wantSt, bad := s.decodeBatch(plain)
	if len(bad) > 0 || len(wantRows["flows"]) == 0 || len(wantBuckets) == 0 || len(wantRows["sensors"]) == 0 {
		t.Fatalf("the fleet's batch: %d bad, %d flows, %d buckets, %d sensors", len(bad), len(wantRows["flows"]), len(wantBuckets), len(wantRows["sensors"]))
	}
	for i := range once {
		once[i].JSON = append([]byte(nil), once[i].JSON...)
	}
	gotRows, gotBuckets, gotSt, bad := s.decodeBatch(once)
	for _, rows := range [][][]any{wantRows["sensors"], gotRows["sensors"]} {
		for _, r := range rows {
			r[12] = nil // stored_at: the clock's time of decoding
		}
	}
	if len(bad) > 0 || !reflect.DeepEqual(gotRows, wantRows) || !reflect.DeepEqual(gotBuckets, wantBuckets) || gotSt != wantSt {
		t.Errorf("decoded once: %d bad, stats %+v; decoded by the store: %+v", len(bad), gotSt, wantSt)
	}
	for i := range once {
		once[i].JSON = []byte("{not read again")
	}
	if _, _, _, bad := s.decodeBatch(once); len(bad) > 0 {
		t.Errorf("the documents were decoded again: %v", bad[0])
	}
	d.Reset()
	if rec := (schemas.Record{}); d.Decode([]byte(`{"source":{"port":"80"}}`), &rec) || rec.Row != nil {
		t.Errorf("a row the store rejects was kept: %+v", rec)
	}
}

// BenchmarkDecode decodes the fleet's flows and events as a collector does.
func BenchmarkDecode(b *testing.B) {
	var docs [][]byte
	for _, r := range storetest.Fleet(b, t0) {
		if r.Dataset != schemas.DatasetTimeseries && r.Dataset != schemas.DatasetStats {
			docs = append(docs, r.JSON)
		}
	}
	var d Decoder
	var rec schemas.Record
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%len(docs) == 0 {
			d.Reset()
		}
		if !d.Decode(docs[i%len(docs)], &rec) {
			b.Fatal("not decoded")
		}
	}
}
