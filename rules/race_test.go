//go:build race

package rules

// raceEnabled: sync.Pool drops items at random under -race, so allocation
// counts are not meaningful there.
const raceEnabled = true
