package migrations

import (
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0002Identity adds sign-in (sessions, API tokens, failed-sign-in
// counters), the Casbin policy table with the first policies, and the audit
// log with its head row. Frozen.
func m0002Identity() *gormigrate.Migration {
	type session struct {
		// TokenHash is the SHA-256 of the cookie's token: a stolen copy of
		// the table signs nobody in.
		TokenHash string    `gorm:"primaryKey;type:varchar(64)"`
		Data      []byte    `gorm:"not null"`
		Expiry    time.Time `gorm:"not null;index"`
	}
	type apiToken struct {
		ID         int64     `gorm:"primaryKey"`
		UserID     int64     `gorm:"not null;index"`
		Name       string    `gorm:"type:varchar(100);not null;default:''"`
		Kind       string    `gorm:"type:varchar(16);not null"` // login or personal
		TokenHash  string    `gorm:"type:varchar(64);not null;uniqueIndex"`
		Prefix     string    `gorm:"type:varchar(16);not null"`
		CreatedAt  time.Time `gorm:"not null"`
		ExpiresAt  time.Time `gorm:"not null"`
		LastUsedAt *time.Time
		RevokedAt  *time.Time
	}
	type loginFailure struct {
		ID   int64     `gorm:"primaryKey"`
		Kind string    `gorm:"type:varchar(16);not null;index:ix_login_failures_key,priority:1"`
		Key  string    `gorm:"type:varchar(320);not null;index:ix_login_failures_key,priority:2"`
		At   time.Time `gorm:"not null;index:ix_login_failures_key,priority:3"`
	}
	type casbinRule struct {
		ID    int64  `gorm:"primaryKey"`
		Ptype string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:1"`
		V0    string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:2"`
		V1    string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:3"`
		V2    string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:4"`
		V3    string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:5"`
		V4    string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:6"`
		V5    string `gorm:"type:varchar(100);not null;default:'';uniqueIndex:ux_casbin_rule,priority:7"`
	}
	type auditEvent struct {
		Seq        int64     `gorm:"primaryKey;autoIncrement:false"`
		At         time.Time `gorm:"not null;index"`
		ActorID    *int64    `gorm:"index"`
		OrgID      *int64
		Action     string  `gorm:"type:varchar(64);not null;index"`
		ObjectType string  `gorm:"type:varchar(64);not null;index:ix_audit_object,priority:1"`
		ObjectID   string  `gorm:"type:varchar(64);not null;default:'';index:ix_audit_object,priority:2"`
		Before     *string `gorm:"type:text"`
		After      *string `gorm:"type:text"`
		Reason     string  `gorm:"type:text;not null;default:''"`
		RequestID  string  `gorm:"type:varchar(64);not null;default:''"`
		PrevHash   string  `gorm:"type:varchar(64);not null"`
		Hash       string  `gorm:"type:varchar(64);not null"`
	}
	type auditHead struct {
		ID       int    `gorm:"primaryKey;autoIncrement:false"`
		Count    int64  `gorm:"not null"`
		LastHash string `gorm:"type:varchar(64);not null"`
	}
	return &gormigrate.Migration{
		ID: "0002_identity",
		Migrate: func(tx *gorm.DB) error {
			for _, t := range []struct {
				name  string
				model any
			}{
				{"sessions", &session{}},
				{"api_tokens", &apiToken{}},
				{"login_failures", &loginFailure{}},
				{"casbin_rule", &casbinRule{}},
				{"audit_events", &auditEvent{}},
				{"audit_head", &auditHead{}},
			} {
				if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
					return err
				}
			}
			// A password reset or a disabled account ends the sessions that
			// began before it.
			if err := tx.Exec(`ALTER TABLE users ADD COLUMN sessions_valid_after ` + timestampType(tx)).Error; err != nil {
				return err
			}
			if err := tx.Table("audit_head").Create(&auditHead{ID: 1, Count: 0, LastHash: strings.Repeat("0", 64)}).Error; err != nil {
				return err
			}
			if dialect(tx) == "postgres" {
				for _, q := range []string{
					`ALTER TABLE api_tokens ADD CONSTRAINT fk_api_tokens_user FOREIGN KEY (user_id) REFERENCES users(id)`,
					`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
					 BEGIN RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP; END $$`,
					`CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
					 FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`,
					`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
					 FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`,
				} {
					if err := tx.Exec(q).Error; err != nil {
						return err
					}
				}
			}
			if err := tx.Table("counters").Create(map[string]any{"name": "policy_version", "value": 1}).Error; err != nil {
				return err
			}
			for _, s := range []settingRow{
				{key: "sessions.idle_timeout_minutes", validFrom: "2000-01-01", value: `120`},
				{key: "sessions.lifetime_hours", validFrom: "2000-01-01", value: `12`},
				{key: "tokens.personal_default_days", validFrom: "2000-01-01", value: `90`},
				{key: "tokens.personal_max_days", validFrom: "2000-01-01", value: `365`},
			} {
				if err := tx.Table("settings").Create(map[string]any{"key": s.key, "valid_from": s.validFrom,
					"value": s.value, "legal_basis": "", "updated_at": time.Now().UTC()}).Error; err != nil {
					return err
				}
			}
			return insertPolicies(tx, identityPolicies())
		},
	}
}

// timestampType is the column type of an instant on each database.
func timestampType(tx *gorm.DB) string {
	if dialect(tx) == "postgres" {
		return "timestamptz"
	}
	return "datetime"
}

// policy is one Casbin row: p (role may call method on path) or g (role is
// a member of group).
type policy struct{ ptype, v0, v1, v2 string }

func p(role, path, method string) policy { return policy{"p", role, path, method} }

// insertPolicies writes Casbin rows in the adapter's table format.
func insertPolicies(tx *gorm.DB, ps []policy) error {
	for _, r := range ps {
		row := map[string]any{"ptype": r.ptype, "v0": r.v0, "v1": r.v1, "v2": r.v2, "v3": "", "v4": "", "v5": ""}
		if err := tx.Table("casbin_rule").Create(row).Error; err != nil {
			return err
		}
	}
	return nil
}

// identityPolicies: every role belongs to signed_in; the identity routes.
func identityPolicies() []policy {
	out := []policy{
		{"g", "admin", "signed_in", ""},
		{"g", "auditor", "signed_in", ""},
		{"g", "officer", "signed_in", ""},
		{"g", "operator", "signed_in", ""},
		p("signed_in", "/api/v1/auth/logout", "POST"),
		p("signed_in", "/api/v1/me", "GET"),
		p("signed_in", "/api/v1/me/tokens", "GET"),
		p("signed_in", "/api/v1/me/tokens", "POST"),
		p("signed_in", "/api/v1/me/tokens/:id", "DELETE"),
	}
	for _, r := range []struct{ path, method string }{
		{"/api/v1/organizations", "GET"}, {"/api/v1/organizations", "POST"},
		{"/api/v1/users", "GET"}, {"/api/v1/users", "POST"},
		{"/api/v1/users/:id", "GET"}, {"/api/v1/users/:id", "PATCH"},
		{"/api/v1/policies", "GET"}, {"/api/v1/policies", "PUT"},
	} {
		out = append(out, p("admin", r.path, r.method))
	}
	for _, role := range []string{"admin", "auditor"} {
		out = append(out, p(role, "/api/v1/audit-events", "GET"), p(role, "/api/v1/audit-events/verify", "GET"))
	}
	return out
}
