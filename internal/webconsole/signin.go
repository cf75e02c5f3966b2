package webconsole

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"moderation/internal/auth"
	"moderation/internal/authz"
)

// signInCookie carries the sign-in form's CSRF token before there is a
// session to tie it to (double submit: the form's hidden field must equal
// the cookie), so a page elsewhere cannot sign a browser in as someone else.
const signInCookie = "moderation_signin"

type signInData struct {
	Next, Token, Message string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if s := c.session(w, r); s != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.renderSignIn(w, r, http.StatusOK, "")
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, code int, msg string) {
	token := randomToken()
	c.setCookie(w, signInCookie, token, 600)
	c.renderStatus(w, r, nil, code, "signin", view{Data: signInData{Next: localPath(r.FormValue("next")), Token: token, Message: msg}})
}

// signIn verifies the token as gRPC does (signature, expiry, revocation),
// asks the authz policy whether its role may sign in (reviewers and admins
// only), and opens a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(signInCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		c.renderError(w, r, nil, http.StatusForbidden, "This form was sent without its security token (CSRF). Open the sign-in page again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	token = strings.TrimPrefix(token, "Bearer ")
	now := c.now()
	who, err := c.cfg.Verifier.Verify(token, now)
	if err != nil {
		c.renderSignIn(w, r, http.StatusUnauthorized, "That token is not accepted: "+strings.TrimPrefix(err.Error(), auth.ErrUnauthenticated.Error()+": ")+".")
		return
	}
	d, err := c.cfg.Authorizer.Decide(r.Context(), SignInMethod, string(who.Role), authz.RelNone)
	if err != nil {
		c.log.Error("web console: authorize sign-in", "err", err)
		c.renderError(w, r, nil, http.StatusInternalServerError, "Sign-in could not be authorized; the service's log says why.")
		return
	}
	if !d.Allow {
		c.log.Info("web console: sign-in refused", "subject", who.Subject, "role", who.Role, "reason", d.Reason)
		c.renderSignIn(w, r, http.StatusForbidden, "Signed in as "+string(who.Role)+" "+who.Subject+": "+d.Reason+". Only reviewers and admins may use the console.")
		return
	}
	_, expires, _ := auth.Claims(token) // verified above; only its expiry is read
	s := c.sessions.start(token, who, expires, now)
	c.setCookie(w, c.cookieName(), s.id, 0)
	c.setCookie(w, signInCookie, "", -1)
	c.log.Info("web console: signed in", "subject", who.Subject, "role", who.Role)
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *Session) {
	c.endSession(w, s)
	c.log.Info("web console: signed out", "subject", s.Who.Subject)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
