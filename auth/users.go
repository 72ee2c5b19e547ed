package auth

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/database"
)

// UserView is a user on the wire: never the password hash.
type UserView struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Organization OrgRef    `json:"organization"`
	Roles        []string  `json:"roles"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// NewUser is the body of POST /api/v1/users.
type NewUser struct {
	Email    string   `json:"email" validate:"required,email,max=320"`
	Name     string   `json:"name" validate:"max=200"`
	Org      string   `json:"organization" validate:"required,max=32"`
	Roles    []string `json:"roles" validate:"required,min=1,max=4,dive,oneof=operator officer auditor admin"`
	Password string   `json:"password" validate:"required"`
}

// UserPatch is the body of PATCH /api/v1/users/{id}: any subset.
type UserPatch struct {
	Name     *string   `json:"name" validate:"omitempty,max=200"`
	Roles    *[]string `json:"roles" validate:"omitempty,min=1,max=4,dive,oneof=operator officer auditor admin"`
	Disabled *bool     `json:"disabled"`
	Password *string   `json:"password"`
}

// roleFits says which organisation kinds may hold a role: an operator's
// staff are operators, an authority's officers, the department's auditors;
// admins sit in the system organisation or the department.
var roleFits = map[string][]string{
	RoleOperator: {KindOperator},
	RoleOfficer:  {KindAuthority},
	RoleAuditor:  {KindDepartment},
	RoleAdmin:    {KindAdmin, KindDepartment},
}

func checkRolesFit(roles []string, orgKind string) error {
	for _, r := range roles {
		ok := false
		for _, k := range roleFits[r] {
			if k == orgKind {
				ok = true
			}
		}
		if !ok {
			return infrashare.Invalid("roles", "role "+r+" does not fit an organisation of kind "+orgKind)
		}
	}
	return nil
}

func (s *Service) userView(ctx context.Context, u User) (UserView, error) {
	var org Organization
	if err := s.db.Conn(ctx).Where("id = ?", u.OrgID).First(&org).Error; err != nil {
		return UserView{}, err
	}
	return userViewOf(u, org), nil
}

func userViewOf(u User, org Organization) UserView {
	roles := u.RoleList()
	if roles == nil {
		roles = []string{}
	}
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Roles: roles, Disabled: u.Disabled,
		Organization: OrgRef{ID: org.ID, Code: org.Code, Name: org.Name, Kind: org.Kind},
		CreatedAt:    u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// Me is GET /api/v1/me: the user, the organisation, the roles.
type Me struct {
	User         UserView `json:"user"`
	Organization OrgView  `json:"organization"`
	Roles        []string `json:"roles"`
}

// Me describes the signed-in actor.
func (s *Service) Me(ctx context.Context, actor Actor) (Me, error) {
	var u User
	if err := s.db.Conn(ctx).Where("id = ?", actor.UserID).First(&u).Error; err != nil {
		return Me{}, errSignedOut
	}
	var org Organization
	if err := s.db.Conn(ctx).Where("id = ?", u.OrgID).First(&org).Error; err != nil {
		return Me{}, err
	}
	units, err := s.jurisdictions(ctx, []Organization{org})
	if err != nil {
		return Me{}, err
	}
	v := userViewOf(u, org)
	return Me{User: v, Organization: viewOf(org, units[org.ID]), Roles: v.Roles}, nil
}

func normaliseRoles(roles []string) []string {
	out := uniqueSorted(roles)
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// CreateUser adds a user to an organisation.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in NewUser) (UserView, error) {
	if err := requireAdmin(actor); err != nil {
		return UserView{}, err
	}
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	if err := infrashare.Validate(in); err != nil {
		return UserView{}, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return UserView{}, err
	}
	var out UserView
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		org, err := s.OrgByCode(ctx, in.Org)
		if err != nil {
			return infrashare.Invalid("organization", "unknown organisation code")
		}
		roles := normaliseRoles(in.Roles)
		if err := checkRolesFit(roles, org.Kind); err != nil {
			return err
		}
		u := User{OrgID: org.ID, Email: in.Email, Name: in.Name, PasswordHash: hash, Roles: strings.Join(roles, ",")}
		if err := s.db.Conn(ctx).Create(&u).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return infrashare.Conflict("a user with this e-mail exists already")
			}
			return err
		}
		out = userViewOf(u, org)
		return s.Audit.Record(ctx, actor, Change{Action: "user.create", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), After: out})
	})
	return out, err
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, actor Actor, id int64) (UserView, error) {
	if err := requireAdmin(actor); err != nil {
		return UserView{}, err
	}
	var u User
	err := s.db.Conn(ctx).Where("id = ?", id).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return UserView{}, infrashare.NotFound("user")
	}
	if err != nil {
		return UserView{}, err
	}
	return s.userView(ctx, u)
}

// UpdateUser renames, disables or enables a user, changes its roles or
// resets its password. Disabling or a new password ends the user's tokens
// and sessions at once. Admins cannot disable themselves or drop their own
// admin role, so that an install always keeps an administrator.
func (s *Service) UpdateUser(ctx context.Context, actor Actor, id int64, p UserPatch) (UserView, error) {
	if err := requireAdmin(actor); err != nil {
		return UserView{}, err
	}
	if err := infrashare.Validate(p); err != nil {
		return UserView{}, err
	}
	var hash string
	if p.Password != nil {
		h, err := HashPassword(*p.Password)
		if err != nil {
			return UserView{}, err
		}
		hash = h
	}
	var out UserView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var u User
		err := s.db.Conn(ctx).Where("id = ?", id).First(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return infrashare.NotFound("user")
		}
		if err != nil {
			return err
		}
		var org Organization
		if err := s.db.Conn(ctx).Where("id = ?", u.OrgID).First(&org).Error; err != nil {
			return err
		}
		before := userViewOf(u, org)
		updates := map[string]any{"updated_at": s.now()}
		endSignIns := false
		if p.Name != nil {
			updates["name"] = strings.TrimSpace(*p.Name)
			updates["search_key"] = infrashare.Fold(u.Email + " " + strings.TrimSpace(*p.Name))
		}
		if p.Roles != nil {
			roles := normaliseRoles(*p.Roles)
			if err := checkRolesFit(roles, org.Kind); err != nil {
				return err
			}
			if id == actor.UserID && actor.Has(RoleAdmin) && !contains(roles, RoleAdmin) {
				return infrashare.Invalid("roles", "you cannot remove your own admin role")
			}
			updates["roles"] = strings.Join(roles, ",")
		}
		if p.Disabled != nil {
			if *p.Disabled && id == actor.UserID {
				return infrashare.Invalid("disabled", "you cannot disable yourself")
			}
			updates["disabled"] = *p.Disabled
			endSignIns = endSignIns || *p.Disabled
		}
		if p.Password != nil {
			updates["password_hash"] = hash
			endSignIns = true
		}
		if err := s.db.Conn(ctx).Model(&User{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return err
		}
		if endSignIns {
			if err := s.endUserSignIns(ctx, id); err != nil {
				return err
			}
		}
		if err := s.db.Conn(ctx).Where("id = ?", id).First(&u).Error; err != nil {
			return err
		}
		out = userViewOf(u, org)
		reason := ""
		if p.Password != nil {
			reason = "password reset"
		}
		return s.Audit.Record(ctx, actor, Change{Action: "user.update", ObjectType: "user",
			ObjectID: strconv.FormatInt(id, 10), Before: before, After: out, Reason: reason})
	})
	if err == nil {
		// Roles changed here take effect on this replica at once.
		s.users.dropWhere(func(a Actor) bool { return a.UserID == id })
		s.tokens.dropWhere(func(a Actor) bool { return a.UserID == id })
	}
	return out, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// UserFilter selects users.
type UserFilter struct {
	Org  string
	Role string
	Q    string
	// Disabled, when set, keeps the disabled (true) or the active (false)
	// users only.
	Disabled *bool
	Limit    int
	Cursor   string
}

// ListUsers lists users by id.
func (s *Service) ListUsers(ctx context.Context, actor Actor, f UserFilter) ([]UserView, string, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, "", err
	}
	q := s.db.Conn(ctx).Model(&User{})
	if f.Org != "" {
		org, err := s.OrgByCode(ctx, f.Org)
		if err != nil {
			return []UserView{}, "", nil
		}
		q = q.Where("org_id = ?", org.ID)
	}
	if f.Role != "" {
		if _, ok := roleFits[f.Role]; !ok {
			return nil, "", infrashare.Invalid("role", "must be one of: operator, officer, auditor, admin")
		}
		q = q.Where("(',' || roles || ',') LIKE ?", "%,"+f.Role+",%")
	}
	if f.Q != "" {
		q = q.Where("search_key LIKE ? ESCAPE '\\'", "%"+escapeLike(infrashare.Fold(f.Q))+"%")
	}
	if f.Disabled != nil {
		q = q.Where("disabled = ?", *f.Disabled)
	}
	users, next, err := Page(q, "id", f.Cursor, f.Limit, false, func(r User) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	orgIDs := map[int64]bool{}
	for _, u := range users {
		orgIDs[u.OrgID] = true
	}
	ids := make([]int64, 0, len(orgIDs))
	for id := range orgIDs {
		ids = append(ids, id)
	}
	orgs := map[int64]Organization{}
	if len(ids) > 0 {
		var rows []Organization
		if err := s.db.Conn(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, "", err
		}
		for _, o := range rows {
			orgs[o.ID] = o
		}
	}
	out := make([]UserView, 0, len(users))
	for _, u := range users {
		out = append(out, userViewOf(u, orgs[u.OrgID]))
	}
	return out, next, nil
}

// CreateFirstAdmin is `infrashare user create --admin`: it makes the system
// organisation when missing and an admin in it.
func (s *Service) CreateFirstAdmin(ctx context.Context, email, name, password string) (UserView, error) {
	var out UserView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.OrgByCode(ctx, "ADMIN"); err != nil {
			if infrashare.ErrorCode(err) != infrashare.ENOTFOUND {
				return err
			}
			if _, err := s.CreateOrg(ctx, SystemActor, NewOrg{Code: "ADMIN", Name: "Quản trị hệ thống infrashare", Kind: KindAdmin}); err != nil {
				return err
			}
		}
		v, err := s.CreateUser(ctx, SystemActor, NewUser{Email: email, Name: name, Org: "ADMIN", Roles: []string{RoleAdmin}, Password: password})
		out = v
		return err
	})
	return out, err
}
