package auth

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/database"
)

// Contact is an organisation's contact person.
type Contact struct {
	Name  string `json:"name" validate:"max=200"`
	Email string `json:"email" validate:"omitempty,email,max=320"`
	Phone string `json:"phone" validate:"max=40"`
}

// OrgView is an organisation on the wire.
type OrgView struct {
	ID           int64     `json:"id"`
	Code         string    `json:"code"`
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	Group        *string   `json:"group"`
	Contact      Contact   `json:"contact"`
	Jurisdiction []string  `json:"jurisdiction"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// NewOrg is the body of POST /api/v1/organizations.
type NewOrg struct {
	Code         string   `json:"code" validate:"required,min=2,max=32"`
	Name         string   `json:"name" validate:"required,max=300"`
	Kind         string   `json:"kind" validate:"required,oneof=operator authority department admin"`
	Group        string   `json:"group" validate:"max=32"`
	Contact      Contact  `json:"contact"`
	Jurisdiction []string `json:"jurisdiction" validate:"max=200,dive,required,max=16"`
}

var orgCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]*$`)

func viewOf(o Organization, units []string) OrgView {
	if units == nil {
		units = []string{}
	}
	return OrgView{ID: o.ID, Code: o.Code, Name: o.Name, Kind: o.Kind, Group: o.GroupCode,
		Contact:      Contact{Name: o.ContactName, Email: o.ContactEmail, Phone: o.ContactPhone},
		Jurisdiction: units, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

func requireAdmin(actor Actor) error {
	if actor.System || actor.Has(RoleAdmin) {
		return nil
	}
	return infrashare.Forbidden("admins only")
}

// CreateOrg registers an organisation; an authority needs a jurisdiction of
// known units.
func (s *Service) CreateOrg(ctx context.Context, actor Actor, in NewOrg) (OrgView, error) {
	if err := requireAdmin(actor); err != nil {
		return OrgView{}, err
	}
	in.Code = strings.TrimSpace(in.Code)
	in.Name = strings.TrimSpace(in.Name)
	in.Group = strings.TrimSpace(in.Group)
	if err := infrashare.Validate(in); err != nil {
		return OrgView{}, err
	}
	fields := infrashare.FieldErrors{}
	if !orgCodePattern.MatchString(in.Code) {
		fields.Add("code", "must be upper-case letters, digits and hyphens, such as VNPT or UBND-NK")
	}
	if in.Group != "" && !orgCodePattern.MatchString(in.Group) {
		fields.Add("group", "must be upper-case letters, digits and hyphens")
	}
	if in.Kind == KindAuthority && len(in.Jurisdiction) == 0 {
		fields.Add("jurisdiction", "an authority needs the codes of the units it decides for")
	}
	if in.Kind != KindAuthority && len(in.Jurisdiction) > 0 {
		fields.Add("jurisdiction", "only an authority has a jurisdiction")
	}
	if err := fields.Err(); err != nil {
		return OrgView{}, err
	}
	var out OrgView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		tx := s.db.Conn(ctx)
		units := uniqueSorted(in.Jurisdiction)
		for _, u := range units {
			var n int64
			if err := tx.Table("admin_units").Where("code = ?", u).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return infrashare.Invalid("jurisdiction", "unknown unit code "+u)
			}
		}
		org := Organization{Code: in.Code, Name: in.Name, Kind: in.Kind, ContactName: in.Contact.Name,
			ContactEmail: in.Contact.Email, ContactPhone: in.Contact.Phone}
		if in.Group != "" {
			g := in.Group
			org.GroupCode = &g
		}
		if err := tx.Create(&org).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return infrashare.Conflict("an organisation with code %s exists already", in.Code)
			}
			return err
		}
		for _, u := range units {
			if err := tx.Create(&Jurisdiction{OrgID: org.ID, UnitCode: u}).Error; err != nil {
				return err
			}
		}
		out = viewOf(org, units)
		return s.Audit.Record(ctx, actor, Change{Action: "organization.create", ObjectType: "organization",
			ObjectID: strconv.FormatInt(org.ID, 10), After: out})
	})
	return out, err
}

// OrgFilter selects organisations.
type OrgFilter struct {
	Kind   string
	Q      string
	Limit  int
	Cursor string
}

// ListOrgs lists organisations by id.
func (s *Service) ListOrgs(ctx context.Context, actor Actor, f OrgFilter) ([]OrgView, string, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, "", err
	}
	q := s.db.Conn(ctx).Model(&Organization{})
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Q != "" {
		q = q.Where("search_key LIKE ? ESCAPE '\\'", "%"+escapeLike(infrashare.Fold(f.Q))+"%")
	}
	orgs, next, err := Page(q, "id", f.Cursor, f.Limit, false, func(r Organization) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	units, err := s.jurisdictions(ctx, orgs)
	if err != nil {
		return nil, "", err
	}
	out := make([]OrgView, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, viewOf(o, units[o.ID]))
	}
	return out, next, nil
}

func (s *Service) jurisdictions(ctx context.Context, orgs []Organization) (map[int64][]string, error) {
	ids := make([]int64, 0, len(orgs))
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Jurisdiction
	if err := s.db.Conn(ctx).Where("org_id IN ?", ids).Order("unit_code").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.OrgID] = append(out[r.OrgID], r.UnitCode)
	}
	return out, nil
}

// OrgByCode finds an organisation by its code.
func (s *Service) OrgByCode(ctx context.Context, code string) (Organization, error) {
	var o Organization
	err := s.db.Conn(ctx).Where("code = ?", strings.ToUpper(strings.TrimSpace(code))).First(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return o, infrashare.NotFound("organisation")
	}
	return o, err
}

func uniqueSorted(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sortStrings(out)
	return out
}

// escapeLike makes user text literal inside a LIKE pattern.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// GetOrg returns one organisation, for admins.
func (s *Service) GetOrg(ctx context.Context, actor Actor, id int64) (OrgView, error) {
	if err := requireAdmin(actor); err != nil {
		return OrgView{}, err
	}
	var org Organization
	err := s.db.Conn(ctx).Where("id = ?", id).First(&org).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return OrgView{}, infrashare.NotFound("organisation")
	}
	if err != nil {
		return OrgView{}, err
	}
	units, err := s.jurisdictions(ctx, []Organization{org})
	if err != nil {
		return OrgView{}, err
	}
	return viewOf(org, units[org.ID]), nil
}

// OrgPatch changes an organisation: any subset. The code and the kind stay:
// other records name the code, and the kind decides which roles its users
// may hold.
type OrgPatch struct {
	Name         *string   `json:"name" validate:"omitempty,max=300"`
	Group        *string   `json:"group" validate:"omitempty,max=32"`
	Contact      *Contact  `json:"contact"`
	Jurisdiction *[]string `json:"jurisdiction" validate:"omitempty,max=200,dive,required,max=16"`
}

// UpdateOrg renames an organisation, changes its group or contact, or an
// authority's jurisdiction (of known units, never empty).
func (s *Service) UpdateOrg(ctx context.Context, actor Actor, id int64, p OrgPatch) (OrgView, error) {
	if err := requireAdmin(actor); err != nil {
		return OrgView{}, err
	}
	if p.Name != nil {
		name := strings.TrimSpace(*p.Name)
		p.Name = &name
	}
	if p.Group != nil {
		group := strings.TrimSpace(*p.Group)
		p.Group = &group
	}
	if err := infrashare.Validate(p); err != nil {
		return OrgView{}, err
	}
	fields := infrashare.FieldErrors{}
	if p.Name != nil && *p.Name == "" {
		fields.Add("name", "is required")
	}
	if p.Group != nil && *p.Group != "" && !orgCodePattern.MatchString(*p.Group) {
		fields.Add("group", "must be upper-case letters, digits and hyphens")
	}
	if err := fields.Err(); err != nil {
		return OrgView{}, err
	}
	var out OrgView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		tx := s.db.Conn(ctx)
		var org Organization
		err := tx.Where("id = ?", id).First(&org).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return infrashare.NotFound("organisation")
		}
		if err != nil {
			return err
		}
		units, err := s.jurisdictions(ctx, []Organization{org})
		if err != nil {
			return err
		}
		before := viewOf(org, units[org.ID])
		if p.Name != nil {
			org.Name = *p.Name
		}
		if p.Group != nil {
			org.GroupCode = nil
			if *p.Group != "" {
				g := *p.Group
				org.GroupCode = &g
			}
		}
		if p.Contact != nil {
			org.ContactName, org.ContactEmail, org.ContactPhone = p.Contact.Name, p.Contact.Email, p.Contact.Phone
		}
		newUnits := units[org.ID]
		if p.Jurisdiction != nil {
			newUnits = uniqueSorted(*p.Jurisdiction)
			switch {
			case org.Kind == KindAuthority && len(newUnits) == 0:
				return infrashare.Invalid("jurisdiction", "an authority needs the codes of the units it decides for")
			case org.Kind != KindAuthority && len(newUnits) > 0:
				return infrashare.Invalid("jurisdiction", "only an authority has a jurisdiction")
			}
			for _, u := range newUnits {
				var n int64
				if err := tx.Table("admin_units").Where("code = ?", u).Count(&n).Error; err != nil {
					return err
				}
				if n == 0 {
					return infrashare.Invalid("jurisdiction", "unknown unit code "+u)
				}
			}
			if err := tx.Where("org_id = ?", org.ID).Delete(&Jurisdiction{}).Error; err != nil {
				return err
			}
			for _, u := range newUnits {
				if err := tx.Create(&Jurisdiction{OrgID: org.ID, UnitCode: u}).Error; err != nil {
					return err
				}
			}
		}
		org.UpdatedAt = s.now()
		if err := tx.Save(&org).Error; err != nil {
			return err
		}
		out = viewOf(org, newUnits)
		return s.Audit.Record(ctx, actor, Change{Action: "organization.update", ObjectType: "organization",
			ObjectID: strconv.FormatInt(org.ID, 10), Before: before, After: out})
	})
	if err == nil {
		// The group and an officer's jurisdiction are part of the cached
		// actor.
		s.users.dropWhere(func(a Actor) bool { return a.OrgID == id })
		s.tokens.dropWhere(func(a Actor) bool { return a.OrgID == id })
	}
	return out, err
}
