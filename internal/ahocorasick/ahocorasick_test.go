package ahocorasick

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// naive is what Contains must answer: any literal in s, ASCII case folded.
func naive(lits []string, s string) bool {
	for _, l := range lits {
		if strings.Contains(asciiLower(s), asciiLower(l)) {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lower(b[i])
	}
	return string(b)
}

func TestContains(t *testing.T) {
	lits := []string{"sqlmap", "Nikto", "nmap scripting engine", "%27", "'", "..", "a.b", "\xc3\xa9t\xc3\xa9"}
	m := New(lits)
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"", false},
		{"Mozilla/5.0", false},
		{"sqlmap/1.7", true},
		{"SQLMAP", true},
		{"NIKTO/2.5", true},
		{"Mozilla (Nmap Scripting Engine; https://nmap.org)", true},
		{"nmap scripting engin", false},
		{"/index.php?id=1%27", true},
		{"/index.php?id=1%2", false},
		{"/x?a='", true},
		{"/a/./b", false},
		{"/a/../b", true},
		{"aXb", false},
		{"A.B", true},
		{"\xc3\xa9t\xc3\xa9", true},
		{"\xc3\x89T\xc3\x89", false}, // only ASCII case is folded
		{"sqlma", false},
		{"ssqlmap", true}, // a failure link back into a literal
	} {
		if got := m.Contains(c.s); got != c.want {
			t.Errorf("Contains(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	if New([]string{"x", ""}).Contains("abc") != true {
		t.Error("the empty literal occurs in every text")
	}
	if New(nil).Contains("abc") {
		t.Error("no literal occurs in any text")
	}
}

// Against the naive search on random literals and texts over a small
// alphabet, where overlaps and failure links are common.
func TestContainsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abAB.%"[r.IntN(6)]
		}
		return string(b)
	}
	for range 2000 {
		lits := make([]string, 1+r.IntN(6))
		for i := range lits {
			lits[i] = word(1 + r.IntN(5))
		}
		m := New(lits)
		for range 20 {
			s := word(r.IntN(20))
			if got, want := m.Contains(s), naive(lits, s); got != want {
				t.Fatalf("lits %q, text %q: %v, want %v", lits, s, got, want)
			}
		}
	}
}

func FuzzContains(f *testing.F) {
	f.Add("sqlmap\x00nikto", "Mozilla sqlMap")
	f.Add("..\x00%2e%2e", "/a/%2E%2e/b")
	f.Fuzz(func(t *testing.T, lits, s string) {
		ls := strings.Split(lits, "\x00")
		if len(ls) > 64 {
			return
		}
		if got, want := New(ls).Contains(s), naive(ls, s); got != want {
			t.Fatalf("lits %q, text %q: %v, want %v", ls, s, got, want)
		}
	})
}

func BenchmarkContains(b *testing.B) {
	m := New(strings.Split("sqlmap|nikto|nmap scripting engine|masscan|nuclei|gobuster|dirbuster|wpscan|zgrab|fimap|w3af|havij|openvas|acunetix|netsparker|commix|whatweb|feroxbuster|zmeu", "|"))
	ua := "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0"
	for b.Loop() {
		if m.Contains(ua) {
			b.Fatal("match")
		}
	}
}
