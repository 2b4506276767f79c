package web

import (
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/packetsleuth/packetsleuth/files"
)

// The extracted files (files.store): a list with filters, and each file
// as a zip protected by the customary password, for analysts only, every
// download in the audit trail.

// FilesPage is the answer of GET /api/v1/files: sidecars newest first.
type FilesPage struct {
	Items []files.Sidecar `json:"items"`
	Total int             `json:"total"` // files matching the filters
}

func (s *Server) needFiles(w http.ResponseWriter) bool {
	if s.cfg.Files == nil {
		writeError(w, http.StatusNotFound, "no file store (files.store.dir)")
		return false
	}
	return true
}

// handleFiles lists the kept files. Filters (all optional, combined):
// sha256, md5, sha1 (exact), name (substring, any case), mime_type
// (exact, or a prefix ending in /), executable, rule, protocol, ip
// (source or destination); limit (default 50).
func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request) {
	if !s.needFiles(w) {
		return
	}
	q := r.URL.Query()
	limit := DefaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			writeError(w, http.StatusBadRequest, "limit: want 1 to "+strconv.Itoa(MaxPage))
			return
		}
		limit = n
	}
	page := FilesPage{Items: []files.Sidecar{}}
	for _, sc := range s.cfg.Files.List() {
		if !fileMatches(&sc, q.Get) {
			continue
		}
		page.Total++
		if len(page.Items) < limit {
			page.Items = append(page.Items, sc)
		}
	}
	writeJSON(w, http.StatusOK, page)
}

func fileMatches(sc *files.Sidecar, get func(string) string) bool {
	eq := func(key, v string) bool { f := get(key); return f == "" || strings.EqualFold(f, v) }
	if !eq("sha256", sc.SHA256) || !eq("md5", sc.MD5) || !eq("sha1", sc.SHA1) || !eq("executable", sc.Executable) || !eq("protocol", sc.Protocol) {
		return false
	}
	if n := get("name"); n != "" && !strings.Contains(strings.ToLower(sc.Name), strings.ToLower(n)) {
		return false
	}
	if m := get("mime_type"); m != "" && sc.MimeType != m && !(strings.HasSuffix(m, "/") && strings.HasPrefix(sc.MimeType, m)) {
		return false
	}
	if ip := get("ip"); ip != "" && sc.Source != ip && sc.Destination != ip {
		return false
	}
	if rule := get("rule"); rule != "" {
		for _, r := range sc.Rules {
			if r == rule {
				return true
			}
		}
		return false
	}
	return true
}

// handleFileDownload sends one kept file inside a zip encrypted with the
// password "infected" (analysts only; audit-logged).
func (s *Server) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	id := s.who(r)
	if id.role != RoleAnalyst {
		writeError(w, http.StatusForbidden, "file downloads are for analysts")
		return
	}
	if !s.needFiles(w) {
		return
	}
	sum := strings.ToLower(r.PathValue("sha256"))
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		writeError(w, http.StatusBadRequest, "sha256: want 64 hex digits")
		return
	}
	f, err := os.Open(s.cfg.Files.Path(sum))
	if err != nil {
		writeError(w, http.StatusNotFound, "no such file in the store")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "file unreadable")
		return
	}
	s.audit(r, "file_download", id, sum)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+sum+`.zip"`)
	w.Header().Set("X-Zip-Password", files.ZipPassword)
	// The member is named by its hash: a captured name is data, and could
	// carry a path.
	if err := files.WriteZip(w, sum+".bin", f, files.ZipPassword, fi.ModTime()); err != nil {
		s.cfg.Log.Error("web: file download", "sha256", sum, "err", err)
	}
}
