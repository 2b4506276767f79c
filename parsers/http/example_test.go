package http_test

import (
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/http"
)

// One Conn per TCP connection: the reassembler feeds each direction's bytes
// in order with packet time, and calls End when the connection is over.
func ExampleNewConn() {
	ts := time.Unix(1700000000, 0)
	c := http.NewConn(http.Config{}, func(tx *http.Transaction) {
		// tx is reused after this call returns: copy what you keep.
		u := http.SplitURL(tx.Request.URI, tx.Request.Host, "http", 8080)
		fmt.Println(tx.Request.Method, u.Full(), tx.Request.AuthUser, tx.Response.StatusCode,
			tx.Response.BodyBytes, tx.Response.BodyDecodedBytes)
	})
	_ = c.Data(parsers.ToServer, []byte("GET /admin?x=1 HTTP/1.1\r\nHost: intranet:8080\r\n"+
		"Authorization: Basic YWRtaW46aHVudGVyMg==\r\n\r\n"), ts)
	_ = c.Data(parsers.ToClient, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"5\r\nhello\r\n0\r\n\r\n"), ts)
	c.End(ts)
	// Output: GET http://intranet:8080/admin?x=1 admin 200 5 5
}
