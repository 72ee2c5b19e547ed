package auth_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/database/dbtest"
)

func newPolicies(t *testing.T, ctx context.Context, db *database.DB) *auth.Policies {
	t.Helper()
	p, err := auth.NewPolicies(ctx, db, auth.NewAudit(db, infrashare.NewTestClock(t0)), discardLogger())
	if err != nil {
		t.Fatalf("NewPolicies: %v", err)
	}
	return p
}

var (
	adminActor    = auth.Actor{UserID: 1, OrgID: 1, OrgCode: "ADMIN", OrgKind: auth.KindAdmin, Roles: []string{auth.RoleAdmin}}
	operatorActor = auth.Actor{UserID: 5, OrgID: 5, OrgCode: "VNPT", OrgKind: auth.KindOperator, Roles: []string{auth.RoleOperator}}
)

func TestMigratedPoliciesAllowTheRightRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newPolicies(t, dbtest.Context(t), db)
		cases := []struct {
			roles        []string
			path, method string
			want         bool
		}{
			{[]string{"admin"}, "/api/v1/users", "GET", true},
			{[]string{"operator"}, "/api/v1/users", "GET", false},
			{[]string{"auditor"}, "/api/v1/users", "GET", false},
			{[]string{"admin"}, "/api/v1/users", "POST", true},
			{[]string{"officer"}, "/api/v1/users", "POST", false},
			{[]string{"admin"}, "/api/v1/users/42", "PATCH", true},
			{[]string{"operator"}, "/api/v1/users/42", "PATCH", false},
			{[]string{"admin"}, "/api/v1/users/42", "DELETE", false},
			{[]string{"admin"}, "/api/v1/me", "GET", true},
			{[]string{"auditor"}, "/api/v1/me", "GET", true},
			{[]string{"officer"}, "/api/v1/me", "GET", true},
			{[]string{"operator"}, "/api/v1/me", "GET", true},
			{[]string{"operator"}, "/api/v1/me", "POST", false},
			{[]string{"operator"}, "/api/v1/me/tokens/7", "DELETE", true},
			{[]string{"operator"}, "/api/v1/auth/logout", "POST", true},
			{[]string{"auditor"}, "/api/v1/audit-events/verify", "GET", true},
			{[]string{"admin"}, "/api/v1/audit-events/verify", "GET", true},
			{[]string{"officer"}, "/api/v1/audit-events/verify", "GET", false},
			{[]string{"operator"}, "/api/v1/audit-events", "GET", false},
			{[]string{"auditor"}, "/api/v1/policies", "GET", false},
			{[]string{"admin"}, "/api/v1/policies", "PUT", true},
			{[]string{"operator", "admin"}, "/api/v1/users", "GET", true},
			{[]string{"signed_in"}, "/api/v1/users", "GET", false},
			{[]string{"root"}, "/api/v1/me", "GET", false},
			{nil, "/api/v1/me", "GET", false},
		}
		for _, c := range cases {
			if got := p.Allowed(c.roles, c.path, c.method); got != c.want {
				t.Errorf("Allowed(%v, %s %s) = %v, want %v", c.roles, c.method, c.path, got, c.want)
			}
		}
	})
}

func withRule(set auth.PolicySet, r auth.PolicyRule) auth.PolicySet {
	out := set
	out.Policies = append(append([]auth.PolicyRule{}, set.Policies...), r)
	return out
}

func withoutRule(set auth.PolicySet, role, path, method string) auth.PolicySet {
	out := set
	out.Policies = nil
	for _, r := range set.Policies {
		if r.Role != role || r.Path != path || r.Method != method {
			out.Policies = append(out.Policies, r)
		}
	}
	return out
}

func hasRule(set auth.PolicySet, role, path, method string) bool {
	for _, r := range set.Policies {
		if r.Role == role && r.Path == path && r.Method == method {
			return true
		}
	}
	return false
}

func TestPutPoliciesReplacesAndTakesEffectAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		p := newPolicies(t, ctx, db)
		before, err := p.Get(ctx, adminActor)
		if err != nil {
			t.Fatal(err)
		}
		if before.Version < 1 || !hasRule(before, "admin", "/api/v1/users", "GET") || len(before.Groups) != 4 {
			t.Fatalf("migrated policy %+v", before)
		}
		grant := auth.PolicyRule{Role: "operator", Path: "/api/v1/users", Method: "GET"}
		// A duplicate rule is stored once.
		set := withRule(withRule(before, grant), grant)
		out, err := p.Put(ctx, adminActor, set)
		if err != nil {
			t.Fatal(err)
		}
		if out.Version != before.Version+1 {
			t.Errorf("version %d after Put, want %d", out.Version, before.Version+1)
		}
		if len(out.Policies) != len(before.Policies)+1 || !hasRule(out, "operator", "/api/v1/users", "GET") {
			t.Errorf("Put returned %d rules, want %d with the new one", len(out.Policies), len(before.Policies)+1)
		}
		if !p.Allowed([]string{"operator"}, "/api/v1/users", "GET") {
			t.Error("the new rule does not take effect at once on this instance")
		}
		got, err := p.Get(ctx, adminActor)
		if err != nil || got.Version != out.Version || len(got.Policies) != len(out.Policies) {
			t.Fatalf("Get after Put: %d rules v%d (%v), want %d v%d", len(got.Policies), got.Version, err, len(out.Policies), out.Version)
		}
		evs := eventsWith(t, db, "policy.update")
		if len(evs) != 1 {
			t.Fatalf("%d policy.update events, want 1", len(evs))
		}
		if evs[0].ActorID == nil || *evs[0].ActorID != adminActor.UserID || evs[0].Before == nil || evs[0].After == nil ||
			strings.Contains(*evs[0].Before, `"role":"operator","path":"/api/v1/users"`) ||
			!strings.Contains(*evs[0].After, `"method":"GET","path":"/api/v1/users","role":"operator"`) {
			t.Errorf("policy.update event %+v does not carry the admin, the old and the new policy", evs[0])
		}

		// Replacing means replacing: a rule left out is gone.
		out2, err := p.Put(ctx, adminActor, withoutRule(out, "signed_in", "/api/v1/me", "GET"))
		if err != nil {
			t.Fatal(err)
		}
		if out2.Version != out.Version+1 || hasRule(out2, "signed_in", "/api/v1/me", "GET") {
			t.Errorf("second Put: version %d, rule kept %v", out2.Version, hasRule(out2, "signed_in", "/api/v1/me", "GET"))
		}
		if p.Allowed([]string{"operator"}, "/api/v1/me", "GET") {
			t.Error("a removed rule still allows")
		}
	})
}

func TestPutPoliciesRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := dbtest.Context(t)
		p := newPolicies(t, ctx, db)
		cur, err := p.Get(ctx, adminActor)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			actor auth.Actor
			set   auth.PolicySet
			code  string
			field string
		}{
			{"without admin's GET on policies", adminActor, withoutRule(cur, "admin", "/api/v1/policies", "GET"), infrashare.EINVALID, "policies"},
			{"without admin's PUT on policies", adminActor, withoutRule(cur, "admin", "/api/v1/policies", "PUT"), infrashare.EINVALID, "policies"},
			{"admin's policies rules given to operator instead", adminActor,
				withRule(withRule(withoutRule(withoutRule(cur, "admin", "/api/v1/policies", "GET"), "admin", "/api/v1/policies", "PUT"),
					auth.PolicyRule{Role: "operator", Path: "/api/v1/policies", Method: "GET"}),
					auth.PolicyRule{Role: "operator", Path: "/api/v1/policies", Method: "PUT"}), infrashare.EINVALID, "policies"},
			{"empty", adminActor, auth.PolicySet{}, infrashare.EINVALID, "policies"},
			{"relative path", adminActor, withRule(cur, auth.PolicyRule{Role: "operator", Path: "api/v1/x", Method: "GET"}),
				infrashare.EINVALID, "policies[" + strconv.Itoa(len(cur.Policies)) + "].path"},
			{"unknown method", adminActor, withRule(cur, auth.PolicyRule{Role: "operator", Path: "/api/v1/x", Method: "FETCH"}),
				infrashare.EINVALID, "policies[" + strconv.Itoa(len(cur.Policies)) + "].method"},
			{"operator", operatorActor, withRule(cur, auth.PolicyRule{Role: "operator", Path: "/api/v1/users", Method: "GET"}), infrashare.EFORBIDDEN, ""},
			{"auditor", auditor, cur, infrashare.EFORBIDDEN, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := p.Put(ctx, c.actor, c.set)
				if c.field != "" {
					wantField(t, err, c.field)
				} else {
					wantCode(t, err, c.code)
				}
				after, err := p.Get(ctx, adminActor)
				if err != nil {
					t.Fatal(err)
				}
				if after.Version != cur.Version || len(after.Policies) != len(cur.Policies) {
					t.Errorf("a refused Put changed the policy: v%d with %d rules, want v%d with %d", after.Version, len(after.Policies), cur.Version, len(cur.Policies))
				}
			})
		}
		if !p.Allowed([]string{"admin"}, "/api/v1/policies", "PUT") || p.Allowed([]string{"operator"}, "/api/v1/users", "GET") {
			t.Error("refused Puts changed what is allowed")
		}
		if n := len(eventsWith(t, db, "policy.update")); n != 0 {
			t.Errorf("%d policy.update events after refusals, want 0", n)
		}
		_, err = p.Get(ctx, operatorActor)
		wantCode(t, err, infrashare.EFORBIDDEN)

		// Admins kept in through a group and a wildcard method is fine.
		alt := withoutRule(withoutRule(cur, "admin", "/api/v1/policies", "GET"), "admin", "/api/v1/policies", "PUT")
		alt = withRule(alt, auth.PolicyRule{Role: "policy_admins", Path: "/api/v1/policies", Method: "*"})
		alt.Groups = append(append([]auth.RoleGroup{}, alt.Groups...), auth.RoleGroup{Role: "admin", Group: "policy_admins"})
		if _, err := p.Put(ctx, adminActor, alt); err != nil {
			t.Fatalf("a policy keeping admins in through a group: %v", err)
		}
		if !p.Allowed([]string{"admin"}, "/api/v1/policies", "PUT") || p.Allowed([]string{"operator"}, "/api/v1/policies", "PUT") {
			t.Error("the group rule is not enforced as stored")
		}
	})
}

// A policy changed on one replica is enforced on another within the watch
// interval: two Policies on two handles of one PostgreSQL database.
func TestPolicyChangeReachesAnotherReplica(t *testing.T) {
	db := requirePostgres(t)
	ctx := dbtest.Context(t)
	db2, err := database.Open(ctx, db.URL(), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	first := newPolicies(t, ctx, db)
	second := newPolicies(t, ctx, db2)

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		second.Watch(wctx, 200*time.Millisecond)
	}()
	t.Cleanup(func() { cancel(); <-done }) // before db2 closes

	if second.Allowed([]string{"operator"}, "/api/v1/users", "GET") {
		t.Fatal("operator may list users before the change")
	}
	cur, err := first.Get(ctx, adminActor)
	if err != nil {
		t.Fatal(err)
	}
	changedAt := time.Now()
	if _, err := first.Put(ctx, adminActor, withRule(cur, auth.PolicyRule{Role: "operator", Path: "/api/v1/users", Method: "GET"})); err != nil {
		t.Fatal(err)
	}
	for !second.Allowed([]string{"operator"}, "/api/v1/users", "GET") {
		if time.Since(changedAt) > 2*time.Second {
			t.Fatal("the second replica does not enforce the change after 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And the second replica's own reads see the new version.
	got, err := second.Get(ctx, adminActor)
	if err != nil || got.Version != cur.Version+1 {
		t.Fatalf("second replica reads v%d (%v), want v%d", got.Version, err, cur.Version+1)
	}
}
