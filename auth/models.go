// Package auth knows who is acting: organisations, users, and (later)
// sessions, tokens, permissions and the audit log.
package auth

import (
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
)

// Organisation kinds.
const (
	KindOperator   = "operator"
	KindAuthority  = "authority"
	KindDepartment = "department"
	KindAdmin      = "admin"
)

// Roles.
const (
	RoleOperator = "operator"
	RoleOfficer  = "officer"
	RoleAuditor  = "auditor"
	RoleAdmin    = "admin"
)

// Organization is an operator, an authority, the department or the system
// itself.
type Organization struct {
	ID           int64  `gorm:"primaryKey"`
	Code         string `gorm:"uniqueIndex"`
	Name         string
	Kind         string
	GroupCode    *string
	ContactName  string
	ContactEmail string
	ContactPhone string
	// SearchKey is the folded code and name, for search on both databases.
	SearchKey string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BeforeSave keeps the search key in step with the code and name.
func (o *Organization) BeforeSave(*gorm.DB) error {
	o.SearchKey = infrashare.Fold(o.Code + " " + o.Name)
	return nil
}

// Jurisdiction links an authority to the administrative units it decides for.
type Jurisdiction struct {
	OrgID    int64  `gorm:"primaryKey"`
	UnitCode string `gorm:"primaryKey"`
}

// TableName keeps the table name independent of the type name.
func (Jurisdiction) TableName() string { return "org_jurisdictions" }

// User belongs to one organisation and holds one or more roles.
type User struct {
	ID           int64 `gorm:"primaryKey"`
	OrgID        int64
	Email        string
	Name         string
	PasswordHash string
	// Roles is stored as a comma-separated list, such as "operator".
	Roles    string
	Disabled bool
	Demo     bool
	// SearchKey is the folded e-mail and name, for search on both databases.
	SearchKey string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BeforeSave keeps the search key in step with the e-mail and name.
func (u *User) BeforeSave(*gorm.DB) error {
	u.SearchKey = infrashare.Fold(u.Email + " " + u.Name)
	return nil
}

// RoleList splits Roles.
func (u User) RoleList() []string {
	if u.Roles == "" {
		return nil
	}
	return strings.Split(u.Roles, ",")
}

// NormalizeEmail lower-cases and trims an address: e-mail addresses are
// compared without regard to case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
