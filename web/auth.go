package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// Session keys.
const (
	sessUserID  = "user_id"
	sessAuthAt  = "auth_at"
	sessTokenID = "token_id" // the bearer token issued with the same API sign-in
)

// signedIn authenticates the request — a bearer token, else the session
// cookie — then lets Casbin decide whether any of the actor's roles may call
// this route. It puts the actor and the request id into the request's
// context for the services and the audit log.
func (s *Server) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := auth.WithRequestID(req.Context(), requestID(c))
		var a auth.Actor
		var err error
		viaSession := false
		if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				return infrashare.Errorf(infrashare.EUNAUTHORIZED, "use Authorization: Bearer <token>")
			}
			a, err = s.auth.Authenticate(ctx, strings.TrimSpace(token))
		} else {
			uid := s.sessions.GetInt64(ctx, sessUserID)
			if uid == 0 {
				return infrashare.Errorf(infrashare.EUNAUTHORIZED, "sign in first")
			}
			viaSession = true
			a, err = s.auth.ActorForSession(ctx, uid, time.UnixMicro(s.sessions.GetInt64(ctx, sessAuthAt)).UTC())
			// Signing out of the session also ends the token of that sign-in.
			a.TokenID = s.sessions.GetInt64(ctx, sessTokenID)
		}
		if err != nil {
			if viaSession && infrashare.ErrorCode(err) == infrashare.EUNAUTHORIZED {
				_ = s.sessions.Destroy(ctx)
			}
			return err
		}
		// A cookie rides along on cross-site requests; a state change
		// through one must come from our own pages.
		if viaSession && !safeMethod(req.Method) && req.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return infrashare.Forbidden("cross-site request refused")
		}
		if !s.policies.Allowed(a.Roles, c.Path(), req.Method) {
			return infrashare.Forbidden("your role may not do this")
		}
		c.SetRequest(req.WithContext(auth.WithActor(ctx, a)))
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login signs in with e-mail and password: a bearer token in the body and
// a session cookie for the browser.
func (s *Server) login(c echo.Context) error {
	var in loginBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ctx := auth.WithRequestID(c.Request().Context(), requestID(c))
	res, err := s.auth.Login(ctx, in.Email, in.Password, c.RealIP())
	if err != nil {
		return err
	}
	// A new session token on sign-in: a token planted before it is worthless.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessUserID, res.User.ID)
	s.sessions.Put(ctx, sessAuthAt, res.AuthAt.UnixMicro())
	s.sessions.Put(ctx, sessTokenID, res.Actor.TokenID)
	return c.JSON(http.StatusOK, res)
}

func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.auth.Logout(ctx, actor(c)); err != nil {
		return err
	}
	if s.sessions.Exists(ctx, sessUserID) {
		if err := s.sessions.Destroy(ctx); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]bool{"signed_out": true})
}

func (s *Server) me(c echo.Context) error {
	me, err := s.auth.Me(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}

func (s *Server) listTokens(c echo.Context) error {
	items, err := s.auth.ListTokens(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

func (s *Server) createToken(c echo.Context) error {
	var in auth.NewToken
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	tok, err := s.auth.CreateToken(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tok)
}

func (s *Server) deleteToken(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.auth.RevokeToken(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// cleanSessions removes expired sessions every few minutes until ctx
// ends; any replica may, and twice changes nothing.
func (s *Server) cleanSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.store.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("delete expired sessions", "error", err.Error())
			}
		}
	}
}
