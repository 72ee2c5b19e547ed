package auth

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/database"
)

// Service holds organisations, users, sign-in and tokens. Each public
// method takes the acting Actor and checks what it may do; Casbin has
// already checked the route.
type Service struct {
	db     *database.DB
	clock  infrashare.Clock
	Audit  *Audit
	tokens *actorCache
	users  *actorCache
	// dummyHash is compared against when an e-mail is unknown, so that a
	// wrong e-mail costs the same time as a wrong password.
	dummyHash string
}

// NewService returns the identity service.
func NewService(db *database.DB, clock infrashare.Clock, audit *Audit) *Service {
	dummy, _ := HashPassword("not-a-real-password-" + RandomPassword())
	return &Service{db: db, clock: clock, Audit: audit, tokens: newActorCache(clock), users: newActorCache(clock), dummyHash: dummy}
}

// OrgRef is how other objects name an organisation on the wire.
type OrgRef struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// loadActor builds the Actor of a user: roles, organisation, group and an
// authority's jurisdiction. A disabled user, or one whose sessions were
// ended after authAt, is not signed in.
func (s *Service) loadActor(ctx context.Context, userID int64, authAt time.Time) (Actor, error) {
	var u userRow
	err := s.db.Conn(ctx).Where("id = ?", userID).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Actor{}, errSignedOut
	}
	if err != nil {
		return Actor{}, err
	}
	if u.Disabled || (!authAt.IsZero() && u.SessionsValidAfter != nil && authAt.Before(*u.SessionsValidAfter)) {
		return Actor{}, errSignedOut
	}
	var org Organization
	if err := s.db.Conn(ctx).Where("id = ?", u.OrgID).First(&org).Error; err != nil {
		return Actor{}, err
	}
	a := Actor{UserID: u.ID, OrgID: org.ID, OrgCode: org.Code, OrgKind: org.Kind, Roles: u.RoleList(), Email: u.Email}
	if org.GroupCode != nil {
		a.Group = *org.GroupCode
	}
	if org.Kind == KindAuthority {
		if err := s.db.Conn(ctx).Model(&Jurisdiction{}).Where("org_id = ?", org.ID).Order("unit_code").
			Pluck("unit_code", &a.UnitCodes).Error; err != nil {
			return Actor{}, err
		}
	}
	return a, nil
}

var errSignedOut = infrashare.Errorf(infrashare.EUNAUTHORIZED, "not signed in, or the sign-in has ended")

// userRow is a user with the columns only this package reads.
type userRow struct {
	User
	SessionsValidAfter *time.Time
}

func (userRow) TableName() string { return "users" }

// ActorForSession returns the actor of a session's user, from a cache of
// at most 5 s.
func (s *Service) ActorForSession(ctx context.Context, userID int64, authAt time.Time) (Actor, error) {
	key := strconv.FormatInt(userID, 10) + "@" + authAt.UTC().Format(time.RFC3339Nano)
	if a, ok := s.users.get(key); ok {
		return a, nil
	}
	a, err := s.loadActor(ctx, userID, authAt)
	if err != nil {
		return Actor{}, err
	}
	s.users.put(key, a, time.Time{})
	return a, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// int64Setting reads a numeric setting in force today, or def.
func (s *Service) int64Setting(ctx context.Context, key string, def int64) int64 {
	v := def
	if err := NewSettings(s.db, s.clock).Get(ctx, key, &v); err != nil {
		return def
	}
	return v
}

// SessionTimeouts are the idle and absolute session lifetimes from settings.
func (s *Service) SessionTimeouts(ctx context.Context) (idle, lifetime time.Duration) {
	idle = time.Duration(s.int64Setting(ctx, "sessions.idle_timeout_minutes", 120)) * time.Minute
	lifetime = time.Duration(s.int64Setting(ctx, "sessions.lifetime_hours", 12)) * time.Hour
	return idle, lifetime
}
