package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"

	"infrashare"
	"infrashare/database"
)

// casbinModel is plain RBAC: a subject is a role (or a group such as
// signed_in that roles belong to), an object a route path matched with
// keyMatch2, an action an HTTP method. Ownership is the services' business.
const casbinModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && (r.act == p.act || p.act == "*")
`

// Policies decides role × route with Casbin. Each replica reloads its
// policies when the policy_version counter moves.
type Policies struct {
	db       *database.DB
	audit    *Audit
	enforcer *casbin.SyncedEnforcer
	version  atomic.Int64
	log      *slog.Logger
	// decisions remembers Enforce's answers per role, route and method
	// until the policies next load: Casbin compiles the route patterns'
	// regular expressions on every call, which cost a third of a simple
	// request's CPU (docs/performance.md). Routes are Echo's patterns, a
	// bounded set.
	decisions atomic.Pointer[sync.Map]
}

// NewPolicies loads the policies from the database.
func NewPolicies(ctx context.Context, db *database.DB, audit *Audit, log *slog.Logger) (*Policies, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	// The adapter must not migrate (the table comes with our migrations),
	// and TurnOffAutoMigrate overwrites the handle it is given.
	g := db.Root().Session(&gorm.Session{NewDB: true})
	gormadapter.TurnOffAutoMigrate(g)
	adapter, err := gormadapter.NewAdapterByDB(g)
	if err != nil {
		return nil, fmt.Errorf("casbin adapter: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, adapter)
	if err != nil {
		return nil, fmt.Errorf("casbin: %w", err)
	}
	p := &Policies{db: db, audit: audit, enforcer: e, log: log}
	if err := p.Refresh(ctx, true); err != nil {
		return nil, err
	}
	return p, nil
}

// Allowed reports whether any of roles may call method on path.
func (p *Policies) Allowed(roles []string, path, method string) bool {
	decisions := p.decisions.Load()
	for _, r := range roles {
		key := r + "\x00" + method + "\x00" + path
		if ok, seen := decisions.Load(key); seen {
			if ok.(bool) {
				return true
			}
			continue
		}
		ok, err := p.enforcer.Enforce(r, path, method)
		if err != nil {
			continue // not remembered: an error is no answer
		}
		decisions.Store(key, ok)
		if ok {
			return true
		}
	}
	return false
}

func (p *Policies) readVersion(ctx context.Context) (int64, error) {
	var v int64
	err := p.db.Conn(ctx).Table("counters").Where("name = ?", "policy_version").Pluck("value", &v).Error
	return v, err
}

// Refresh reloads the policies when their version has moved (or always,
// with force).
func (p *Policies) Refresh(ctx context.Context, force bool) error {
	v, err := p.readVersion(ctx)
	if err != nil {
		return fmt.Errorf("read policy_version: %w", err)
	}
	if !force && v == p.version.Load() {
		return nil
	}
	if err := p.enforcer.LoadPolicy(); err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	p.decisions.Store(&sync.Map{})
	p.version.Store(v)
	return nil
}

// Watch polls the version every interval until ctx ends, so that a change
// made on any replica is enforced here within about interval.
func (p *Policies) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, interval)
			if err := p.Refresh(rctx, false); err != nil && ctx.Err() == nil {
				p.log.Warn("policy refresh failed", "error", err.Error())
			}
			cancel()
		}
	}
}

// PolicyRule lets a role call a method on a route.
type PolicyRule struct {
	Role   string `json:"role" validate:"required,max=100"`
	Path   string `json:"path" validate:"required,max=100"`
	Method string `json:"method" validate:"required,oneof=GET POST PUT PATCH DELETE *"`
}

// RoleGroup makes a role a member of a group, inheriting its rules.
type RoleGroup struct {
	Role  string `json:"role" validate:"required,max=100"`
	Group string `json:"group" validate:"required,max=100"`
}

// PolicySet is the whole policy, as GET and PUT /api/v1/policies carry it.
type PolicySet struct {
	Version  int64        `json:"version"`
	Policies []PolicyRule `json:"policies" validate:"required,min=1,max=5000,dive"`
	Groups   []RoleGroup  `json:"groups" validate:"max=1000,dive"`
}

type casbinRow struct {
	ID                     int64
	Ptype                  string
	V0, V1, V2, V3, V4, V5 string
}

func (casbinRow) TableName() string { return "casbin_rule" }

// Get returns the stored policy.
func (p *Policies) Get(ctx context.Context, actor Actor) (PolicySet, error) {
	if !actor.Has(RoleAdmin) && !actor.System {
		return PolicySet{}, infrashare.Forbidden("only admins read the policies")
	}
	return p.read(ctx)
}

func (p *Policies) read(ctx context.Context) (PolicySet, error) {
	var rows []casbinRow
	if err := p.db.Conn(ctx).Order("ptype, v0, v1, v2").Find(&rows).Error; err != nil {
		return PolicySet{}, err
	}
	set := PolicySet{Policies: []PolicyRule{}, Groups: []RoleGroup{}}
	for _, r := range rows {
		switch r.Ptype {
		case "p":
			set.Policies = append(set.Policies, PolicyRule{Role: r.V0, Path: r.V1, Method: r.V2})
		case "g":
			set.Groups = append(set.Groups, RoleGroup{Role: r.V0, Group: r.V1})
		}
	}
	v, err := p.readVersion(ctx)
	set.Version = v
	return set, err
}

// Put replaces the whole policy: the rows, their audit event and the
// version bump are one transaction; this replica reloads at once, the
// others within a second or two. A policy that would lock admins out of
// the policies themselves is refused.
func (p *Policies) Put(ctx context.Context, actor Actor, set PolicySet) (PolicySet, error) {
	if !actor.Has(RoleAdmin) && !actor.System {
		return PolicySet{}, infrashare.Forbidden("only admins change the policies")
	}
	if err := infrashare.Validate(set); err != nil {
		return PolicySet{}, err
	}
	fields := infrashare.FieldErrors{}
	for i, r := range set.Policies {
		if !strings.HasPrefix(r.Path, "/") {
			fields.Add(fmt.Sprintf("policies[%d].path", i), "must start with /")
		}
	}
	if len(fields) > 0 {
		return PolicySet{}, fields.Err()
	}
	set.Policies = dedupeRules(set.Policies)
	set.Groups = dedupeGroups(set.Groups)
	if !keepsAdminsIn(set) {
		return PolicySet{}, infrashare.Invalid("policies", "must let the admin role GET and PUT /api/v1/policies, or nobody could repair them")
	}
	var out PolicySet
	err := p.db.Tx(ctx, func(ctx context.Context) error {
		before, err := p.read(ctx)
		if err != nil {
			return err
		}
		tx := p.db.Conn(ctx)
		if err := tx.Where("1 = 1").Delete(&casbinRow{}).Error; err != nil {
			return err
		}
		var rows []casbinRow
		for _, r := range set.Policies {
			rows = append(rows, casbinRow{Ptype: "p", V0: r.Role, V1: r.Path, V2: r.Method})
		}
		for _, g := range set.Groups {
			rows = append(rows, casbinRow{Ptype: "g", V0: g.Role, V1: g.Group})
		}
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return err
		}
		if err := tx.Exec("UPDATE counters SET value = value + 1 WHERE name = 'policy_version'").Error; err != nil {
			return err
		}
		after, err := p.read(ctx)
		if err != nil {
			return err
		}
		out = after
		before.Version, after.Version = 0, 0
		return p.audit.Record(ctx, actor, Change{Action: "policy.update", ObjectType: "policy", ObjectID: "casbin",
			Before: before, After: after})
	})
	if err != nil {
		return PolicySet{}, err
	}
	if err := p.Refresh(ctx, true); err != nil {
		return PolicySet{}, err
	}
	return out, nil
}

func dedupeRules(in []PolicyRule) []PolicyRule {
	seen := map[PolicyRule]bool{}
	var out []PolicyRule
	for _, r := range in {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Role+"\x00"+a.Path+"\x00"+a.Method < b.Role+"\x00"+b.Path+"\x00"+b.Method
	})
	return out
}

func dedupeGroups(in []RoleGroup) []RoleGroup {
	seen := map[RoleGroup]bool{}
	var out []RoleGroup
	for _, g := range in {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// keepsAdminsIn evaluates the proposed set with a scratch enforcer.
func keepsAdminsIn(set PolicySet) bool {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return false
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return false
	}
	for _, r := range set.Policies {
		_, _ = e.AddPolicy(r.Role, r.Path, r.Method)
	}
	for _, g := range set.Groups {
		_, _ = e.AddGroupingPolicy(g.Role, g.Group)
	}
	get, _ := e.Enforce(RoleAdmin, "/api/v1/policies", "GET")
	put, _ := e.Enforce(RoleAdmin, "/api/v1/policies", "PUT")
	return get && put
}
