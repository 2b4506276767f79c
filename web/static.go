package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The UI is plain ES modules, CSS and SVG in ui/: the files in the
// repository are what the browser runs, so building the binary needs no
// Node and no build step (see ui/README.md).
//
//go:embed ui
var uiFS embed.FS

// staticHandler serves the embedded UI. Every file is public: the pages
// hold no data, which comes from the authenticated API.
func staticHandler() http.Handler {
	sub, err := fs.Sub(uiFS, "ui")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasSuffix(p, ".md") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		if p != "/" && !strings.Contains(p[1:], ".") {
			// Not a file: the UI routes by the URL fragment, so send the page.
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			files.ServeHTTP(w, r2)
			return
		}
		files.ServeHTTP(w, r)
	})
}
