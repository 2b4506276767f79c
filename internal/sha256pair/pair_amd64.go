package sha256pair

import "golang.org/x/sys/cpu"

// blocks2 is twoAtOnce with the SHA extensions.
//
//go:noescape
func blocks2(ha, hb *[8]uint32, pa, pb *byte, n int)

// cpuid returns EAX and EBX of CPUID leaf, subleaf sub.
func cpuid(leaf, sub uint32) (eax, ebx uint32)

func init() {
	if hasSHA() && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41 {
		twoAtOnce = blocks2
	}
}

// hasSHA says whether the CPU has the SHA extensions (CPUID leaf 7,
// EBX bit 29).
func hasSHA() bool {
	if max, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, ebx := cpuid(7, 0)
	return ebx&(1<<29) != 0
}
