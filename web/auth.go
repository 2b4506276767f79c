package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// CSRFHeader must be sent (with any value) on state-changing requests that
// are authenticated by the session cookie, and on login. A cross-origin
// page cannot add a custom header without a CORS preflight, which this
// server never grants.
const CSRFHeader = "X-PacketSleuth-CSRF"

// SessionCookie is the name of the login cookie (HttpOnly, SameSite=Strict,
// Secure over TLS).
const SessionCookie = "ps_session"

// maxSessions caps the in-memory session table.
const maxSessions = 10_000

type session struct {
	id      identity
	expires time.Time
}

// contentSecurityPolicy allows only the server's own scripts, styles,
// images and API; no inline code, no frames, no plugins.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure wraps next with the security headers, authentication and the
// CSRF check.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if s.tlsOn() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		if !s.hostAllowed(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "unknown host name; add it to web.hostnames")
			return
		}
		if r.Method == http.MethodOptions {
			// No CORS: a preflight gets no Access-Control-Allow-* headers.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		bearer := false
		if !s.public(r) {
			if r.Header.Get("Authorization") != "" {
				if wait := s.throttle.blocked(clientKey(r)); wait > 0 {
					tooMany(w, wait, "too many failed logins from this address; retry later")
					return
				}
			}
			id, viaBearer, ok := s.authenticate(r)
			if !ok {
				if r.Header.Get("Authorization") != "" {
					s.throttle.failedToken.Add(1)
					s.throttle.fail(clientKey(r))
					s.cfg.Log.Warn("web: wrong bearer token", "remote", r.RemoteAddr, "path", logSafe(r.URL.Path))
				}
				h.Set("WWW-Authenticate", `Bearer realm="packetsleuth"`)
				writeError(w, http.StatusUnauthorized, "authentication required")
				return
			}
			bearer = viaBearer
			if unsafeMethod(r.Method) && id.role != RoleAnalyst {
				writeError(w, http.StatusForbidden, "role "+id.role+" may not change anything")
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		}
		if unsafeMethod(r.Method) && !bearer {
			if msg := s.csrfProblem(r); msg != "" {
				writeError(w, http.StatusForbidden, msg)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// public says whether a request needs no credentials: the UI's static
// files, /healthz, login and (when configured) /metrics.
func (s *Server) public(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case s.cfg.Auth.Disabled:
		return true
	case p == "/healthz":
		return true
	case p == "/api/v1/login" || p == "/api/v1/logout":
		return true
	case p == "/metrics":
		return s.cfg.Auth.MetricsPublic
	case strings.HasPrefix(p, "/api/"):
		return false
	}
	return true
}

// authenticate checks the bearer token or the session cookie.
func (s *Server) authenticate(r *http.Request) (id identity, bearer, ok bool) {
	if a := r.Header.Get("Authorization"); a != "" {
		// Auth schemes are case-insensitive (RFC 9110 11.1).
		scheme, tok, found := strings.Cut(strings.TrimSpace(a), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			return identity{}, false, false
		}
		id, ok := s.cfg.Auth.tokenRole(strings.TrimSpace(tok))
		return id, ok, ok
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return identity{}, false, false
	}
	now := s.cfg.Now()
	s.smu.Lock()
	defer s.smu.Unlock()
	ss, found := s.sessions[sessionKey(c.Value)]
	if !found || now.After(ss.expires) {
		delete(s.sessions, sessionKey(c.Value))
		return identity{}, false, false
	}
	return ss.id, false, true
}

// equalSecret compares in constant time (hashes first, so the length of
// the secret does not leak either).
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// sessionKey is what the table keeps: a hash, so a dump of the memory
// holds no usable cookie.
func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return string(h[:])
}

// csrfProblem returns why a state-changing request is refused ("" = ok).
func (s *Server) csrfProblem(r *http.Request) string {
	if r.Header.Get(CSRFHeader) == "" {
		return "missing " + CSRFHeader + " header"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "cross-site request refused"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return "cross-origin request refused"
		}
		want := "http"
		if r.TLS != nil {
			want = "https"
		}
		if u.Scheme != want {
			return "cross-origin request refused"
		}
	}
	return ""
}

type loginRequest struct {
	User     string `json:"username"`
	Password string `json:"password"`
}

// handleLogin checks a user name and password (or the token as password)
// and sets the session cookie.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a := s.cfg.Auth
	if a.Disabled {
		s.startSession(w, identity{user: "anonymous", role: RoleAnalyst})
		return
	}
	keys := []string{clientKey(r)}
	if req.User != "" && (req.User == a.User || req.User == a.ViewerUser) {
		keys = append(keys, userKey(req.User))
	}
	if wait := s.throttle.blocked(keys...); wait > 0 {
		tooMany(w, wait, "too many failed logins; retry later")
		return
	}
	id, ok := a.tokenRole(req.Password)
	if ok && req.User != "" {
		id.user = req.User
	}
	if !ok {
		if !s.throttle.acquire(r.Context()) {
			tooMany(w, time.Second, "too many logins at once; retry later")
			return
		}
		id, ok = a.passwordRole(req.User, req.Password)
		s.throttle.release()
	}
	if !ok {
		s.throttle.failedPassword.Add(1)
		s.throttle.fail(keys...)
		s.cfg.Log.Warn("web: failed login", "user", logSafe(req.User), "remote", r.RemoteAddr)
		s.audit(r, "login_failed", identity{user: req.User}, "")
		writeError(w, http.StatusUnauthorized, "wrong user name or password")
		return
	}
	s.throttle.succeed(keys...)
	s.audit(r, "login", id, "")
	s.startSession(w, id)
}

// startSession makes a session for id and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, id identity) {
	var raw [32]byte
	rand.Read(raw[:])
	cookie := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.cfg.Now()
	s.smu.Lock()
	if len(s.sessions) >= maxSessions {
		for k, v := range s.sessions {
			if now.After(v.expires) {
				delete(s.sessions, k)
			}
		}
		for k := range s.sessions { // still full: drop an arbitrary one
			if len(s.sessions) < maxSessions {
				break
			}
			delete(s.sessions, k)
		}
	}
	s.sessions[sessionKey(cookie)] = session{id: id, expires: now.Add(s.cfg.SessionTTL)}
	s.smu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: cookie, Path: "/", HttpOnly: true, Secure: s.tlsOn(),
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionTTL / time.Second),
	})
	writeJSON(w, http.StatusOK, map[string]string{"user": id.user, "role": id.role})
}

// logSafe quotes a client-supplied string for a log line: control
// characters and invalid UTF-8 are escaped and it is cut to 64 bytes, so
// a user name cannot forge or hide log lines.
func logSafe(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return strconv.Quote(v)
}

// dummyHash is a bcrypt hash of nothing in particular, compared against on
// failed logins.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("packetsleuth-dummy"), bcrypt.DefaultCost)
	return h
})

// handleLogout forgets the session and clears the cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.smu.Lock()
		ss, found := s.sessions[sessionKey(c.Value)]
		delete(s.sessions, sessionKey(c.Value))
		s.smu.Unlock()
		if found {
			s.audit(r, "logout", ss.id, "")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.tlsOn(),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// handleSession tells the UI who is logged in (the request passed auth).
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	id := s.who(r)
	writeJSON(w, http.StatusOK, map[string]any{"user": id.user, "role": id.role, "auth": !s.cfg.Auth.Disabled})
}

// decodeBody reads a small JSON body strictly (an empty body is {}).
func decodeBody(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
