package dns

import (
	"strconv"
	"testing"
)

// TestTypeNameEveryType checks the indexed lookup against the table of
// record: every one of the 65,536 types gets its mnemonic or TYPEn, by
// TypeName and AppendTypeName alike.
func TestTypeNameEveryType(t *testing.T) {
	for i := 0; i <= 0xffff; i++ {
		typ := uint16(i)
		want, ok := typeNames[typ]
		if !ok {
			want = "TYPE" + strconv.Itoa(i)
		}
		if got := TypeName(typ); got != want {
			t.Fatalf("TypeName(%d) = %q, want %q", i, got, want)
		}
		if got := string(AppendTypeName([]byte("x"), typ)); got != "x"+want {
			t.Fatalf("AppendTypeName(%d) = %q, want %q", i, got, "x"+want)
		}
	}
	for _, c := range []struct {
		typ  uint16
		want string
	}{{0, "TYPE0"}, {TypeA, "A"}, {TypeANY, "ANY"}, {TypeCAA, "CAA"}, {258, "TYPE258"}, {TypeDLV, "DLV"}, {0xffff, "TYPE65535"}} {
		if got := TypeName(c.typ); got != c.want {
			t.Errorf("TypeName(%d) = %q, want %q", c.typ, got, c.want)
		}
	}
}
