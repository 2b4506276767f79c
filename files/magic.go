package files

import (
	"bytes"
	"path"
	"strings"
	"sync"

	"github.com/gabriel-vasile/mimetype"
)

// Magic is what a file's leading bytes say it is.
type Magic struct {
	// MimeType found by github.com/gabriel-vasile/mimetype, without
	// parameters ("application/octet-stream" for unknown binary data).
	MimeType string
	// Executable is "pe", "elf", "macho" or "script" (a "#!" line) for
	// executable content, else "".
	Executable string
	mime       *mimetype.MIME
	sig        bool // see significant
}

// Sniff types head, the first bytes of a file (at most SniffBytes are
// read; a shorter head is the whole file). An empty head gives the zero
// Magic: no bytes, no type.
func Sniff(head []byte) Magic {
	if len(head) == 0 {
		return Magic{}
	}
	m := mimetype.Detect(head)
	if m == htmlLeaf {
		m = m.Parent()
	}
	mt := typeName(m)
	k := kindOf(m, mt)
	g := Magic{MimeType: mt, Executable: k.executable, mime: m, sig: k.significant}
	if g.Executable == "" && len(head) > 3 && head[0] == '#' && head[1] == '!' && bytes.IndexByte(head[2:min(len(head), 128)], '/') >= 0 {
		g.Executable, g.sig = "script", true
	}
	return g
}

// htmlLeaf is a child of mimetype's text/html that every HTML head
// matches: Detect then returns it as it is, where for text/html itself it
// works out the charset (reading up to 1 KiB for a meta tag) and returns a
// copy of the type and its ancestors carrying it, four allocations per
// HTML file (bench-large: about 6,500 files), for a parameter Sniff cuts
// off. Sniff takes its parent, the tree's text/html. text/plain and
// text/xml have children of their own, which a child that matches every
// head would hide: they keep the copies.
var htmlLeaf = func() *mimetype.MIME {
	html := mimetype.Lookup("text/html")
	html.Extend(func([]byte, uint32) bool { return true }, "text/x.packetsleuth-html", "")
	return mimetype.Lookup("text/x.packetsleuth-html")
}()

// kind is what a detected type says, whatever the file: worked out once
// per type, as mimetype's Is parses both media types on every call and a
// type's ancestry is walked for several names.
type kind struct {
	executable  string // "pe", "elf", "macho" or ""
	significant bool
}

// kinds maps a type without parameters to its *kind. The keys are the
// types of mimetype's fixed tree (Detect's clones carry the same type and
// ancestry, only parameters differ), so the map stays small.
var kinds sync.Map

func kindOf(m *mimetype.MIME, mt string) *kind {
	if k, ok := kinds.Load(mt); ok {
		return k.(*kind)
	}
	k := &kind{}
	switch {
	case m.Is("application/vnd.microsoft.portable-executable"):
		k.executable = "pe"
	case m.Is("application/x-elf") || under(m, "application/x-elf"):
		k.executable = "elf"
	case m.Is("application/x-mach-binary"):
		k.executable = "macho"
	}
	k.significant = k.executable != ""
	for _, t := range significantTypes {
		if !k.significant && (m.Is(t) || under(m, t)) {
			k.significant = true
		}
	}
	kinds.Store(mt, k)
	return k
}

// under says whether m descends from the type named mt.
func under(m *mimetype.MIME, mt string) bool {
	for p := m.Parent(); p != nil; p = p.Parent() {
		if p.Is(mt) {
			return true
		}
	}
	return false
}

// related says whether one of a, b is the other or descends from it
// (text/plain and text/html, application/zip and a .docx). The answer is
// the fixed tree's, so it is worked out once per pair of types: Is parses
// both media types on every call (two allocations, and the parsing).
func related(a, b *mimetype.MIME) bool {
	k := [2]string{typeName(a), typeName(b)}
	relatedPairs.RLock()
	r, ok := relatedPairs.m[k]
	relatedPairs.RUnlock()
	if ok {
		return r
	}
	r = a.Is(b.String()) || under(a, b.String()) || under(b, a.String())
	relatedPairs.Lock()
	if relatedPairs.m == nil {
		relatedPairs.m = map[[2]string]bool{}
	}
	if len(relatedPairs.m) < maxRelatedPairs {
		relatedPairs.m[k] = r
	}
	relatedPairs.Unlock()
	return r
}

// relatedPairs holds related's answers by the pair of types (without
// parameters). Its keys are types of mimetype's fixed tree (a detected
// type and one it was looked up by), at most maxRelatedPairs of them: the
// pairs the content and the declared types (attacker's choice) can make
// are bounded by the tree, not by much.
var relatedPairs struct {
	sync.RWMutex
	m map[[2]string]bool
}

const maxRelatedPairs = 1024

// typeName is m's type without parameters.
func typeName(m *mimetype.MIME) string {
	t, _, _ := strings.Cut(m.String(), ";")
	return t
}

// generic types say nothing about the content: any magic agrees with them.
var generic = map[string]bool{
	"application/octet-stream":          true,
	"binary/octet-stream":               true,
	"application/x-download":            true,
	"application/force-download":        true,
	"application/download":              true,
	"application/unknown":               true,
	"application/x-www-form-urlencoded": true,
}

// significant is the content a contradiction is worth telling about:
// executables, archives and documents (not text or media, where
// mislabelling is everyday web noise).
func (g Magic) significant() bool { return g.mime != nil && g.sig }

var significantTypes = []string{
	"application/zip", "application/x-ole-storage", "application/pdf",
	"application/gzip", "application/x-7z-compressed", "application/x-rar-compressed",
	"application/x-bzip2", "application/x-xz", "application/vnd.ms-cab-compressed",
	"application/x-tar", "application/rtf", "text/rtf",
}

// ContradictsType says whether the magic of an executable, archive or
// document contradicts declared, a declared Content-Type (without
// parameters). An unknown or generic declared type contradicts nothing.
func (g Magic) ContradictsType(declared string) bool {
	declared = strings.ToLower(strings.TrimSpace(declared))
	if declared == "" || generic[declared] || !g.significant() {
		return false
	}
	if declared == "application/x-msdownload" || declared == "application/x-dosexec" || declared == "application/x-msdos-program" {
		return g.Executable != "pe"
	}
	d := mimetype.Lookup(declared)
	if d == nil || d == htmlLeaf { // htmlLeaf is Sniff's, no type a sender declares
		return false
	}
	return !related(g.mime, d)
}

// extTypes maps the extensions worth judging to the type their content
// should have.
var extTypes = map[string]string{
	"exe": "application/vnd.microsoft.portable-executable", "dll": "application/vnd.microsoft.portable-executable",
	"scr": "application/vnd.microsoft.portable-executable", "cpl": "application/vnd.microsoft.portable-executable",
	"sys": "application/vnd.microsoft.portable-executable",
	"pdf": "application/pdf", "zip": "application/zip", "jar": "application/java-archive",
	"docx": "application/zip", "xlsx": "application/zip", "pptx": "application/zip",
	"docm": "application/zip", "xlsm": "application/zip", "apk": "application/zip",
	"doc": "application/x-ole-storage", "xls": "application/x-ole-storage", "ppt": "application/x-ole-storage",
	"msi": "application/x-ole-storage",
	"gz":  "application/gzip", "tgz": "application/gzip", "7z": "application/x-7z-compressed",
	"rar": "application/x-rar-compressed",
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp",
	"txt": "text/plain", "htm": "text/html", "html": "text/html", "css": "text/plain", "js": "text/plain",
	"json": "text/plain", "xml": "text/plain", "csv": "text/plain",
}

// ContradictsExtension says whether the magic of an executable, archive
// or document contradicts the extension of name (a .jpg that is a PE, a
// .pdf that is a ZIP). Extensions not in the table contradict nothing.
func (g Magic) ContradictsExtension(name string) bool {
	if !g.significant() {
		return false
	}
	want := extMimes()[Extension(name)]
	if want == nil {
		return false
	}
	return !related(g.mime, want)
}

// extMimes is extTypes with the types looked up in mimetype's tree.
var extMimes = sync.OnceValue(func() map[string]*mimetype.MIME {
	m := make(map[string]*mimetype.MIME, len(extTypes))
	for ext, t := range extTypes {
		if mm := mimetype.Lookup(t); mm != nil {
			m[ext] = mm
		}
	}
	return m
})

// Extension returns the lower-case extension of a file name without its
// dot ("" if none, or if it is not 1 to 10 letters and digits); the name
// may be a path or URL path.
func Extension(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 11 || len(ext) == len(name) {
		return ""
	}
	ext = ext[1:]
	for i := 0; i < len(ext); i++ {
		c := ext[i] | 0x20
		if !(c >= 'a' && c <= 'z' || ext[i] >= '0' && ext[i] <= '9') {
			return ""
		}
	}
	return strings.ToLower(ext)
}
