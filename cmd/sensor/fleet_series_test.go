package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// A sensor with a kafka output makes its traffic series as one with a
// store does, so the central store behind the collector holds each
// sensor's series (the dashboard's chart, series and peaks by sensor): its
// 1 s and 1 h levels add up to the bytes of the buckets the sensor sent,
// and the sensor's stats report, stamped now, does not prune the replayed
// capture's series of years ago.
func TestFleetTrafficSeries(t *testing.T) {
	broker, pg := fleetServices(t)
	topic := "ps-fleet-" + fleetRunID()
	pgDSN := storetest.PGSchema(t, pg)
	mysqlDSN, _, stop := fleetCollector(t, broker, topic, pgDSN)
	defer stop()
	out := fleetSensor(t, t.TempDir(), "edge-series", broker, topic, fleetCaptures(t)[1], "")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for line := range bytes.Lines(b) {
		var ev struct {
			Event struct{ Dataset string }
			PS    struct{ Traffic schemas.Traffic } `json:"packetsleuth"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event.Dataset == schemas.DatasetTimeseries {
			want += ev.PS.Traffic.Bytes
		}
	}
	if want == 0 {
		t.Fatal("the sensor sent no traffic buckets to its kafka output")
	}
	for _, st := range []struct{ driver, dsn string }{{"pgx", pgDSN}, {"mysql", mysqlDSN}} {
		if st.dsn == "" {
			continue
		}
		db, err := sql.Open(st.driver, st.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		q := `SELECT COALESCE(SUM(bytes), 0) FROM traffic WHERE res = ? AND sensor = 'edge-series'`
		if st.driver == "pgx" {
			q = strings.Replace(q, "?", "$1", 1)
		}
		for _, res := range []int{1, 3600} {
			var got int64
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
				err := db.QueryRow(q, res).Scan(&got)
				if err == nil && got == want || time.Now().After(deadline) {
					break
				}
			}
			if got != want {
				t.Errorf("%s: the %d s series holds %d bytes of the sensor, want the %d it sent", st.driver, res, got, want)
			}
		}
	}
}
