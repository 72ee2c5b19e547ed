package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
	"infrashare/migrations"
)

func TestMain(m *testing.M) {
	// Hash cheaply: the tests sign in hundreds of times. The timing test
	// raises the cost back for its own accounts.
	auth.SetBcryptCost(bcrypt.MinCost)
	os.Exit(dbtest.Main(m))
}

// demoPassword is every demo account's password in these tests.
const demoPassword = "demo-password-1"

// Demo accounts (migrations/demo.go).
const (
	adminEmail   = "admin@demo.infrashare.vn"
	auditorEmail = "auditor@demo.infrashare.vn"
	officerEmail = "officer.ninhkieu@demo.infrashare.vn"
	vnptEmail    = "ops@vnpt.demo.infrashare.vn"
	viettelEmail = "ops@viettel.demo.infrashare.vn"
)

// t0 is the test clocks' start: a Monday morning in Can Tho.
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// env is the identity service on one test database, with a clock that
// moves only when told to.
type env struct {
	ctx   context.Context
	db    *database.DB
	clock *infrashare.TestClock
	audit *auth.Audit
	svc   *auth.Service
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	clock := infrashare.NewTestClock(t0)
	audit := auth.NewAudit(db, clock)
	return &env{ctx: dbtest.Context(t), db: db, clock: clock, audit: audit, svc: auth.NewService(db, clock, audit)}
}

// newDemoEnv is newEnv on a database seeded with the demo organisations
// and accounts (not the demo register: this package knows no assets).
func newDemoEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	e := newEnv(t, db)
	if _, err := migrations.SeedDemoAccounts(e.ctx, db, demoPassword); err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	return e
}

// userID returns the id of the user with email.
func (e *env) userID(t *testing.T, email string) int64 {
	t.Helper()
	var u auth.User
	if err := e.db.Root().WithContext(e.ctx).Where("email = ?", email).First(&u).Error; err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u.ID
}

// actor returns the actor of a demo account as a session would carry it,
// without signing in (so without an auth.login event).
func (e *env) actor(t *testing.T, email string) auth.Actor {
	t.Helper()
	a, err := e.svc.ActorForSession(e.ctx, e.userID(t, email), time.Time{})
	if err != nil {
		t.Fatalf("actor of %s: %v", email, err)
	}
	return a
}

// login signs in and fails the test when that does not work.
func (e *env) login(t *testing.T, email, password, ip string) auth.LoginResult {
	t.Helper()
	res, err := e.svc.Login(e.ctx, email, password, ip)
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
	return res
}

// events returns the whole audit log in seq order, read straight from the
// table.
func events(t *testing.T, db *database.DB) []auth.AuditEvent {
	t.Helper()
	var rows []auth.AuditEvent
	if err := db.Root().Order("seq").Find(&rows).Error; err != nil {
		t.Fatalf("read audit_events: %v", err)
	}
	return rows
}

// eventsWith returns the audit events of one action, in seq order.
func eventsWith(t *testing.T, db *database.DB, action string) []auth.AuditEvent {
	t.Helper()
	var rows []auth.AuditEvent
	if err := db.Root().Where("action = ?", action).Order("seq").Find(&rows).Error; err != nil {
		t.Fatalf("read audit_events: %v", err)
	}
	return rows
}

// count is the number of rows of a model or table.
func count(t *testing.T, db *database.DB, model any) int64 {
	t.Helper()
	var n int64
	q := db.Root()
	if name, ok := model.(string); ok {
		q = q.Table(name)
	} else {
		q = q.Model(model)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count %T: %v", model, err)
	}
	return n
}

// headCount is the audit head's count of events.
func headCount(t *testing.T, db *database.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Root().Table("audit_head").Where("id = 1").Pluck("count", &n).Error; err != nil {
		t.Fatalf("read audit_head: %v", err)
	}
	return n
}

// auditor is an actor of the department that may read and verify the log.
var auditor = auth.Actor{UserID: 2, OrgID: 2, OrgCode: "DEPT", OrgKind: auth.KindDepartment, Roles: []string{auth.RoleAuditor}}

// verify runs Verify as the department and fails the test on an error.
func verify(t *testing.T, ctx context.Context, a *auth.Audit) auth.VerifyResult {
	t.Helper()
	res, err := a.Verify(ctx, auditor)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

// wantCode fails unless err is an *infrashare.Error with code.
func wantCode(t *testing.T, err error, code string) *infrashare.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	var e *infrashare.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	return e
}

// wantField fails unless err is a validation error naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e := wantCode(t, err, infrashare.EINVALID)
	if _, ok := e.Fields[field]; !ok {
		t.Fatalf("validation error %v does not name the field %q", err, field)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// requirePostgres skips a PostgreSQL-only test when no server is
// configured (and fails it in CI, like dbtest.Dialects).
func requirePostgres(t *testing.T) *database.DB {
	t.Helper()
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		dbtest.Dialects(t) // fails in CI
		t.Skip("needs PostgreSQL: set " + dbtest.EnvPostgresURL)
	}
	return dbtest.Open(t, database.Postgres)
}
