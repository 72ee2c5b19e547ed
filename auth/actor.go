package auth

import "context"

// Actor is who is acting in a service call: a user of an organisation with
// its roles, or the system itself (sweepers, migrations).
type Actor struct {
	UserID  int64
	OrgID   int64
	OrgCode string
	OrgKind string
	Group   string
	Roles   []string
	// UnitCodes is an authority's jurisdiction.
	UnitCodes []string
	System    bool
	Email     string
	// TokenID is the API token the actor signed in with, 0 for a session.
	TokenID int64
}

// SystemActor acts for background work.
var SystemActor = Actor{System: true, Roles: []string{RoleAdmin}}

// Has reports whether the actor holds role.
func (a Actor) Has(role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// SeesEverything is true for the department's auditors, admins and the
// system.
func (a Actor) SeesEverything() bool {
	return a.System || a.Has(RoleAdmin) || a.Has(RoleAuditor)
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
