package webconsole

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"

	"moderation/internal/auth"
)

// Session is a signed-in reviewer. It lives in the console's memory only:
// the browser holds a random id in an HttpOnly, SameSite=Strict cookie, and
// never the token, which stays on the server and is sent to the API with
// each call the reviewer's pages make.
type Session struct {
	id, csrf string
	token    string
	// Who is who the token speaks for: the actor of everything done here.
	Who auth.Identity
	// ends is the latest the session may last: MaxAge after sign-in or the
	// token's expiry, whichever is first.
	ends time.Time

	mu    sync.Mutex
	seen  time.Time
	flash string
}

// creds is the call option that sends the session's token with an API call.
func (s *Session) creds() grpc.CallOption {
	return grpc.PerRPCCredentials(auth.Bearer(s.token))
}

// validCSRF reports whether r carries the session's CSRF token.
func (s *Session) validCSRF(r *http.Request) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// Flash keeps a one-line message for the next page the reviewer sees (after
// an action's redirect).
func (s *Session) Flash(msg string) {
	s.mu.Lock()
	s.flash = msg
	s.mu.Unlock()
}

func (s *Session) takeFlash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = ""
	return f
}

// sessions is the server-side session store.
type sessions struct {
	idle, maxAge time.Duration
	mu           sync.Mutex
	m            map[string]*Session
}

func newSessions(idle, maxAge time.Duration) *sessions {
	return &sessions{idle: idle, maxAge: maxAge, m: map[string]*Session{}}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// start opens a session for a verified token expiring at tokenExpires.
func (ss *sessions) start(token string, who auth.Identity, tokenExpires, now time.Time) *Session {
	s := &Session{id: randomToken(), csrf: randomToken(), token: token, Who: who, seen: now, ends: now.Add(ss.maxAge)}
	if !tokenExpires.IsZero() && tokenExpires.Before(s.ends) {
		s.ends = tokenExpires
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweep(now)
	ss.m[s.id] = s
	return s
}

// get returns the live session with id, touching it; an expired one is
// removed.
func (ss *sessions) get(id string, now time.Time) *Session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ss.live(s, now) {
		delete(ss.m, id)
		return nil
	}
	s.seen = now
	return s
}

// live is the one rule of a session's end: before its latest end, and
// used within the idle timeout. Called with s.mu held.
func (ss *sessions) live(s *Session, now time.Time) bool {
	return now.Before(s.ends) && now.Sub(s.seen) < ss.idle
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// sweep drops expired sessions; called under ss.mu at each sign-in, so the
// store holds at most the sessions of one idle period's sign-ins.
func (ss *sessions) sweep(now time.Time) {
	for id, s := range ss.m {
		s.mu.Lock()
		live := ss.live(s, now)
		s.mu.Unlock()
		if !live {
			delete(ss.m, id)
		}
	}
}

// cookieName is __Host- prefixed over TLS: browsers then accept it only
// Secure, for this host and path /.
func (c *Console) cookieName() string {
	if c.cfg.Secure {
		return "__Host-moderation_session"
	}
	return "moderation_session"
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.cfg.Secure, SameSite: http.SameSiteStrictMode})
}

// session returns the request's live session, or nil. A session whose
// token has since been revoked (or has expired) is ended here, so a
// revocation signs the reviewer out at their next click.
func (c *Console) session(w http.ResponseWriter, r *http.Request) *Session {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return nil
	}
	now := c.now()
	s := c.sessions.get(ck.Value, now)
	if s == nil {
		c.setCookie(w, c.cookieName(), "", -1)
		return nil
	}
	if _, err := c.cfg.Verifier.Verify(s.token, now); err != nil {
		c.log.Info("console session ended: its token is no longer accepted", "subject", s.Who.Subject, "err", err)
		c.endSession(w, s)
		return nil
	}
	return s
}

func (c *Console) endSession(w http.ResponseWriter, s *Session) {
	c.sessions.end(s.id)
	c.setCookie(w, c.cookieName(), "", -1)
}
