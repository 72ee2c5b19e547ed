package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
)

// tokenPrefix marks infrashare tokens, so that secret scanners can find
// leaked ones.
const tokenPrefix = "isk_"

type apiToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"-"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	TokenHash  string     `json:"-"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"-"`
}

func (apiToken) TableName() string { return "api_tokens" }

// TokenView is a token as its owner sees it: never the secret.
type TokenView = apiToken

// HashToken is how a token is stored: SHA-256, hex. Tokens are 256 random
// bits, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newTokenSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) issueToken(ctx context.Context, userID int64, kind, name string, expires time.Time) (string, apiToken, error) {
	secret := newTokenSecret()
	row := apiToken{UserID: userID, Name: name, Kind: kind, TokenHash: HashToken(secret),
		Prefix: secret[:len(tokenPrefix)+6], CreatedAt: s.now(), ExpiresAt: expires.UTC().Truncate(time.Microsecond)}
	if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
		return "", apiToken{}, err
	}
	return secret, row, nil
}

// Authenticate returns the actor of a bearer token. A replica caches the
// answer for up to 5 s, and writes last_used_at at most once a minute.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return Actor{}, errSignedOut
	}
	h := HashToken(token)
	if a, ok := s.tokens.get(h); ok {
		return a, nil
	}
	now := s.now()
	var row apiToken
	err := s.db.Conn(ctx).Where("token_hash = ? AND revoked_at IS NULL AND expires_at > ?", h, now).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Actor{}, errSignedOut
	}
	if err != nil {
		return Actor{}, err
	}
	a, err := s.loadActor(ctx, row.UserID, time.Time{})
	if err != nil {
		return Actor{}, err
	}
	a.TokenID = row.ID
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= time.Minute {
		// Best effort: a failed stamp must not fail the request.
		_ = s.db.Conn(ctx).Model(&apiToken{}).Where("id = ?", row.ID).Update("last_used_at", now).Error
	}
	s.tokens.put(h, a, row.ExpiresAt)
	return a, nil
}

// NewToken is the body of POST /api/v1/me/tokens.
type NewToken struct {
	Name          string `json:"name" validate:"required,max=100"`
	ExpiresInDays int    `json:"expires_in_days" validate:"omitempty,gte=1"`
}

// CreatedToken is shown once: the secret is not kept.
type CreatedToken struct {
	Token string `json:"token"`
	TokenView
}

// CreateToken makes a personal API token for the actor.
func (s *Service) CreateToken(ctx context.Context, actor Actor, in NewToken) (CreatedToken, error) {
	if actor.UserID == 0 {
		return CreatedToken{}, errSignedOut
	}
	if err := infrashare.Validate(in); err != nil {
		return CreatedToken{}, err
	}
	maxDays := s.int64Setting(ctx, "tokens.personal_max_days", 365)
	days := int64(in.ExpiresInDays)
	if days == 0 {
		days = s.int64Setting(ctx, "tokens.personal_default_days", 90)
	}
	if days > maxDays {
		return CreatedToken{}, infrashare.Invalid("expires_in_days", "must be at most "+strconv.FormatInt(maxDays, 10))
	}
	var out CreatedToken
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		secret, row, err := s.issueToken(ctx, actor.UserID, "personal", in.Name, s.now().Add(time.Duration(days)*24*time.Hour))
		if err != nil {
			return err
		}
		out = CreatedToken{Token: secret, TokenView: row}
		return s.Audit.Record(ctx, actor, Change{Action: "token.create", ObjectType: "api_token",
			ObjectID: strconv.FormatInt(row.ID, 10), After: row})
	})
	return out, err
}

// ListTokens lists the actor's live tokens.
func (s *Service) ListTokens(ctx context.Context, actor Actor) ([]TokenView, error) {
	var rows []apiToken
	err := s.db.Conn(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", actor.UserID, s.now()).
		Order("id").Find(&rows).Error
	if rows == nil {
		rows = []apiToken{}
	}
	return rows, err
}

// RevokeToken ends one of the actor's tokens; another user's token is not
// found.
func (s *Service) RevokeToken(ctx context.Context, actor Actor, id int64) error {
	return s.db.Tx(ctx, func(ctx context.Context) error {
		var row apiToken
		err := s.db.Conn(ctx).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, actor.UserID).First(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return infrashare.NotFound("token")
		}
		if err != nil {
			return err
		}
		if err := s.revokeToken(ctx, id); err != nil {
			return err
		}
		return s.Audit.Record(ctx, actor, Change{Action: "token.revoke", ObjectType: "api_token",
			ObjectID: strconv.FormatInt(id, 10), Before: row})
	})
}

func (s *Service) revokeToken(ctx context.Context, id int64) error {
	var hash string
	if err := s.db.Conn(ctx).Model(&apiToken{}).Where("id = ?", id).Pluck("token_hash", &hash).Error; err != nil {
		return err
	}
	if err := s.db.Conn(ctx).Model(&apiToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now()).Error; err != nil {
		return err
	}
	s.tokens.drop(hash)
	return nil
}

// endUserSignIns revokes every token of a user and ends the sessions that
// began before now (a disabled account, a reset password).
func (s *Service) endUserSignIns(ctx context.Context, userID int64) error {
	now := s.now()
	if err := s.db.Conn(ctx).Model(&apiToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error; err != nil {
		return err
	}
	if err := s.db.Conn(ctx).Table("users").Where("id = ?", userID).Update("sessions_valid_after", now).Error; err != nil {
		return err
	}
	match := func(a Actor) bool { return a.UserID == userID }
	s.tokens.dropWhere(match)
	s.users.dropWhere(match)
	return nil
}
