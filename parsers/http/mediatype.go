package http

import (
	"strings"
	"unicode/utf8"
)

// mayBeMultipart says whether a body's Content-Type may name a multipart
// type, so that mime.ParseMediaType, which makes a map of the parameters,
// runs only on one that may (most bodies' types are not). A value that is
// not ASCII always may: mime lowers it with strings.ToLower, which folds
// some other letters onto ASCII ones (İ to i).
func mayBeMultipart(contentType string) bool {
	const prefix = "multipart/"
	for i := 0; i < len(contentType); i++ {
		if contentType[i] >= utf8.RuneSelf {
			return true
		}
	}
	mt := strings.TrimLeft(contentType, " \t\n\v\f\r") // strings.TrimSpace's ASCII
	return len(mt) >= len(prefix) && strings.EqualFold(mt[:len(prefix)], prefix)
}
