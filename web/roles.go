package web

import (
	"net/http"

	"golang.org/x/crypto/bcrypt"
)

// Roles: an analyst may do everything; a viewer may read but not change
// anything (acknowledging alerts is refused with 403) and does not see the
// audit trail. The configured token and user are analysts; viewer_token
// and viewer_user/viewer_password_hash are viewers. Without
// authentication everyone is an analyst (loopback only).
const (
	RoleAnalyst = "analyst"
	RoleViewer  = "viewer"
)

// identity is who made a request.
type identity struct {
	user, role string
}

type identityKey struct{}

// who returns the identity secure found for r.
func (s *Server) who(r *http.Request) identity {
	if id, ok := r.Context().Value(identityKey{}).(identity); ok {
		return id
	}
	return identity{user: "anonymous", role: RoleAnalyst} // only public routes, or no auth
}

// tokenRole matches tok against the analyst and viewer tokens (both
// compared, in constant time).
func (a Auth) tokenRole(tok string) (identity, bool) {
	analyst := a.Token != "" && equalSecret(tok, a.Token.Value())
	viewer := a.ViewerToken != "" && equalSecret(tok, a.ViewerToken.Value())
	switch {
	case analyst:
		return identity{user: "token", role: RoleAnalyst}, true
	case viewer:
		return identity{user: "viewer-token", role: RoleViewer}, true
	}
	return identity{}, false
}

// passwordRole checks a user name and password with bcrypt; an unknown
// name costs a comparison too, so timing does not tell which part was
// wrong.
func (a Auth) passwordRole(user, password string) (identity, bool) {
	hash, role := dummyHash(), ""
	switch {
	case user == "":
	case user == a.User:
		hash, role = []byte(a.PasswordHash.Value()), RoleAnalyst
	case user == a.ViewerUser:
		hash, role = []byte(a.ViewerPasswordHash.Value()), RoleViewer
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || role == "" {
		return identity{}, false
	}
	return identity{user: user, role: role}, true
}
