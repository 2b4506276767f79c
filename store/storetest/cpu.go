package storetest

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcCPU is the CPU time (user + system) a process of this machine has
// used, from /proc; zero when it cannot be read (gone, another OS).
func ProcCPU(pid int) time.Duration {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// utime and stime are fields 14 and 15, after the ")" closing the name
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+stime) * time.Second / 100 // USER_HZ
}

// PGBackendsCPU is the CPU time of each PostgreSQL backend (by pid) whose
// application_name is app, as ProcCPU reads it: the server side of a
// client that set that name in its DSN, when the server runs on this
// machine.
func PGBackendsCPU(db *sql.DB, app string) (map[int]time.Duration, error) {
	rows, err := db.Query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", app)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		m[pid] = ProcCPU(pid)
	}
	return m, rows.Err()
}
