package budget

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// DefaultLimit is the budget when none is configured: a quarter of the
// machine's memory (or of the cgroup's limit when that is lower), at least
// 256 MiB. The rest is left to the Go runtime, the OS page cache and
// whatever else runs on the sensor.
func DefaultLimit() int64 {
	total := memTotal()
	if cg := cgroupLimit(); cg > 0 && (total == 0 || cg < total) {
		total = cg
	}
	if total == 0 {
		return 1 << 30
	}
	return max(total/4, 256<<20)
}

// memTotal reads MemTotal from /proc/meminfo (0 when unknown).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit reads a cgroup v2 memory.max (0 when unset or unknown).
func cgroupLimit() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return v
}
