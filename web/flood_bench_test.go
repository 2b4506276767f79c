package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// floodClient sends from 127.0.0.N, so a flood comes from several client
// addresses (Linux routes all of 127/8 to loopback).
func floodClient(n int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n))}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

// loginFlood posts wrong passwords for the configured user from 8 client
// addresses, 4 connections each, perConn times on each (0: until ctx ends).
// The function it returns waits for the end and gives the status codes
// seen, counted.
func loginFlood(ctx context.Context, url string, perConn int) func() map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for a := range 8 {
		c := floodClient(2 + a)
		for range 4 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil && (perConn == 0 || i < perConn); i++ {
					req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/v1/login",
						strings.NewReader(`{"username":"admin","password":"guess"}`))
					req.Header.Set(CSRFHeader, "1")
					res, err := c.Do(req)
					if err != nil {
						continue
					}
					res.Body.Close()
					mu.Lock()
					codes[res.StatusCode]++
					mu.Unlock()
				}
			})
		}
	}
	return func() map[int]int { wg.Wait(); return codes }
}

// floodServer serves a user with a default-cost bcrypt hash (what
// "sensor serve hash-password" makes) on loopback.
func floodServer(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Auth: Auth{User: "admin", PasswordHash: outputs.Secret(hash)}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// BenchmarkHealthzUnderLoginFlood: GET /healthz while 32 connections from
// 8 addresses guess the password of a user with a default-cost bcrypt
// hash. Reports the median and 99th percentile latency of /healthz.
func BenchmarkHealthzUnderLoginFlood(b *testing.B) {
	_, hs := floodServer(b)
	ctx, cancel := context.WithCancel(context.Background())
	wait := loginFlood(ctx, hs.URL, 0)
	time.Sleep(200 * time.Millisecond) // let the flood start
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		res, err := hs.Client().Get(hs.URL + "/healthz")
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		lat = append(lat, time.Since(t0))
	}
	cancel()
	codes := wait()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.Logf("login answers: %v", codes)
}
