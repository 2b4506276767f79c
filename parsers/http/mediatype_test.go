package http

import "testing"

var mediaTypeValues = []string{
	"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8",
	"multipart/form-data; boundary=x", " \tMultipart/Form-Data; boundary=\"a b\"", "multipart/",
	"multipart", "multi;part/x; boundary=q", "MULTİPART/form-data; boundary=x", "\u00a0multipart/mixed; boundary=z",
	"form-data; name=\"comment\"", "attachment", "inline; filename=a.pdf", "attachment; FILENAME=\"r.exe\"",
	"attachment; filename*=UTF-8''a%20b.exe", "attachment; filename=a b.exe", "attachment; FİLENAME=a b.exe",
	"form-data; name=\"f\"; filename=\"x.bin\"",
}

// The quick refusals say what mime.ParseMediaType would: boundaryOf and
// dispositionName give what they gave without them.
func TestMediaTypeRefusalsAgreeWithMime(t *testing.T) {
	for _, v := range mediaTypeValues {
		if got, want := boundaryOf(v), parseBoundary(v); got != want {
			t.Errorf("boundaryOf(%q) = %q, want %q", v, got, want)
		}
		if got, want := dispositionName(v), parseDispositionName(v); got != want {
			t.Errorf("dispositionName(%q) = %q, want %q", v, got, want)
		}
	}
}

func FuzzMediaTypeRefusals(f *testing.F) {
	for _, v := range mediaTypeValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := boundaryOf(v), parseBoundary(v); got != want {
			t.Fatalf("boundaryOf(%q) = %q, want %q", v, got, want)
		}
		if got, want := dispositionName(v), parseDispositionName(v); got != want {
			t.Fatalf("dispositionName(%q) = %q, want %q", v, got, want)
		}
	})
}

// A body's Content-Type that is not multipart, and a form field's
// Content-Disposition, cost no allocation.
func TestMediaTypeRefusalsAllocateNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = boundaryOf("application/x-www-form-urlencoded") }); n != 0 {
		t.Errorf("boundaryOf: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = dispositionName(`form-data; name="comment"`) }); n != 0 {
		t.Errorf("dispositionName: %v allocations", n)
	}
}
