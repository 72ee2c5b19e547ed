package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
)

// Brute-force limits: more failed sign-ins than these within the window
// make the next attempt wait, even with the right password.
const (
	maxAccountFailures = 5
	maxAddressFailures = 20
	failureWindow      = 15 * time.Minute
)

// LoginResult is a successful sign-in.
type LoginResult struct {
	Token string   `json:"token,omitempty"`
	User  UserView `json:"user"`
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time `json:"expires_at"`
	Actor     Actor     `json:"-"`
	// AuthAt is when the sign-in happened, kept in the session.
	AuthAt time.Time `json:"-"`
}

type loginFailure struct {
	ID   int64
	Kind string
	Key  string
	At   time.Time
}

func (loginFailure) TableName() string { return "login_failures" }

var errWrongSignIn = infrashare.Errorf(infrashare.EUNAUTHORIZED, "wrong e-mail or password")

// Login checks an e-mail and password from a client address. The counters
// of failures live in the database, so the limits hold across replicas. A
// wrong e-mail and a wrong password get the same answer after the same work.
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (LoginResult, error) {
	return s.login(ctx, email, password, clientIP, true)
}

// LoginSession is Login for the web pages: it issues no bearer token, since
// the browser signs in with the session alone.
func (s *Service) LoginSession(ctx context.Context, email, password, clientIP string) (LoginResult, error) {
	return s.login(ctx, email, password, clientIP, false)
}

func (s *Service) login(ctx context.Context, email, password, clientIP string, withToken bool) (LoginResult, error) {
	email = NormalizeEmail(email)
	fields := infrashare.FieldErrors{}
	if email == "" {
		fields.Add("email", "is required")
	} else if len(email) > 320 {
		fields.Add("email", "must be at most 320 characters")
	}
	if password == "" {
		fields.Add("password", "is required")
	} else if len(password) > 1024 {
		fields.Add("password", "must be at most 1024 bytes")
	}
	if err := fields.Err(); err != nil {
		return LoginResult{}, err
	}
	// Count and reserve this attempt atomically, before the password is
	// checked, so that guesses sent at once cannot all slip under the limit.
	reserved, err := s.reserveAttempt(ctx, email, clientIP)
	if err != nil {
		return LoginResult{}, err
	}

	var u userRow
	err = s.db.Conn(ctx).Where("email = ?", email).First(&u).Error
	found := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return LoginResult{}, err
	}
	hash := s.dummyHash
	if found {
		hash = u.PasswordHash
	}
	ok := PasswordMatches(hash, password) && found && !u.Disabled
	if !ok {
		if err := s.recordFailure(ctx, email, clientIP, u, found); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, errWrongSignIn
	}

	now := s.now()
	actor, err := s.loadActor(ctx, u.ID, time.Time{})
	if err != nil {
		return LoginResult{}, err
	}
	_, lifetime := s.SessionTimeouts(ctx)
	var res LoginResult
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		// A success clears the account's failures and gives back the
		// address's reserved attempt.
		if err := s.db.Conn(ctx).Where("(kind = ? AND key = ?) OR id IN ?", "account", email, reserved).Delete(&loginFailure{}).Error; err != nil {
			return err
		}
		view, err := s.userView(ctx, u.User)
		if err != nil {
			return err
		}
		res = LoginResult{User: view, Actor: actor, AuthAt: now, ExpiresAt: now.Add(lifetime)}
		if withToken {
			tok, row, err := s.issueToken(ctx, u.ID, "login", "sign-in", now.Add(lifetime))
			if err != nil {
				return err
			}
			res.Token, res.ExpiresAt, res.Actor.TokenID = tok, row.ExpiresAt, row.ID
		}
		return s.Audit.Record(ctx, actor, Change{Action: "auth.login", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), After: map[string]any{"ip": clientIP, "token_id": res.Actor.TokenID}})
	})
	return res, err
}

// reserveAttempt, in one transaction under a lock per account and per
// address, checks the limits and records this attempt as a failure; a
// success deletes the rows again. It returns the ids of the rows it wrote.
func (s *Service) reserveAttempt(ctx context.Context, email, ip string) ([]int64, error) {
	var ids []int64
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		if s.db.IsPostgres() {
			for _, key := range []string{"login:account:" + email, "login:address:" + ip} {
				if strings.HasSuffix(key, ":") {
					continue
				}
				if err := s.db.Conn(ctx).Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", key).Error; err != nil {
					return err
				}
			}
		}
		if err := s.checkRateLimit(ctx, email, ip); err != nil {
			return err
		}
		now := s.now()
		rows := []loginFailure{{Kind: "account", Key: email, At: now}}
		if ip != "" {
			rows = append(rows, loginFailure{Kind: "address", Key: ip, At: now})
		}
		if err := s.db.Conn(ctx).Create(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return nil
	})
	return ids, err
}

func (s *Service) checkRateLimit(ctx context.Context, email, ip string) error {
	since := s.now().Add(-failureWindow)
	for _, c := range []struct {
		kind, key string
		max       int
	}{{"account", email, maxAccountFailures}, {"address", ip, maxAddressFailures}} {
		if c.key == "" {
			continue
		}
		var rows []time.Time
		err := s.db.Conn(ctx).Model(&loginFailure{}).Where("kind = ? AND key = ? AND at > ?", c.kind, c.key, since).
			Order("at DESC").Limit(c.max).Pluck("at", &rows).Error
		if err != nil {
			return err
		}
		if len(rows) >= c.max {
			// The attempt that makes room again is the oldest of the last max.
			wait := rows[len(rows)-1].Add(failureWindow).Sub(s.now())
			secs := int64(wait/time.Second) + 1
			if secs < 1 {
				secs = 1
			}
			return &infrashare.Error{Code: infrashare.ERATELIMITED,
				Message: "too many failed sign-ins; try again later",
				Details: map[string]any{"retry_after_seconds": secs}}
		}
	}
	return nil
}

func (s *Service) recordFailure(ctx context.Context, email, ip string, u userRow, found bool) error {
	now := s.now()
	return s.db.Tx(ctx, func(ctx context.Context) error {
		// The failure rows were reserved before the password was checked;
		// forget failures older than the window while here.
		if err := s.db.Conn(ctx).Where("at < ?", now.Add(-failureWindow)).Delete(&loginFailure{}).Error; err != nil {
			return err
		}
		c := Change{Action: "auth.login_failed", ObjectType: "user", After: map[string]any{"email": email, "ip": ip}}
		actor := Actor{System: true}
		if found {
			c.ObjectID = strconv.FormatInt(u.ID, 10)
		}
		return s.Audit.Record(ctx, actor, c)
	})
}

// Logout ends the actor's token at once, on every replica (their caches
// hold it at most 5 s; this replica's is cleared now).
func (s *Service) Logout(ctx context.Context, actor Actor) error {
	return s.db.Tx(ctx, func(ctx context.Context) error {
		if actor.TokenID != 0 {
			if err := s.revokeToken(ctx, actor.TokenID); err != nil {
				return err
			}
		}
		return s.Audit.Record(ctx, actor, Change{Action: "auth.logout", ObjectType: "user",
			ObjectID: strconv.FormatInt(actor.UserID, 10), After: map[string]any{"token_id": actor.TokenID}})
	})
}
