// Package splitmix is the splitmix64 finaliser, a cheap unkeyed mixer of
// 64-bit words (direct-mapped caches, worker choice), and its inverse,
// which shows why it must not choose slots an attacker can aim at: every
// step is a bijection anyone can undo.
package splitmix

// Mix is the splitmix64 finaliser.
func Mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Unmix inverts Mix.
func Unmix(x uint64) uint64 {
	x = unxorshift(x, 31)
	x *= oddInverse(0x94d049bb133111eb)
	x = unxorshift(x, 27)
	x *= oddInverse(0xbf58476d1ce4e5b9)
	return unxorshift(x, 30)
}

// unxorshift inverts x ^= x >> s.
func unxorshift(y uint64, s uint) uint64 {
	x := y
	for range 64/s + 1 {
		x = y ^ x>>s
	}
	return x
}

// oddInverse returns a's inverse modulo 2^64 (Newton's iteration; a odd).
func oddInverse(a uint64) uint64 {
	x := a
	for range 6 {
		x *= 2 - a*x
	}
	return x
}
