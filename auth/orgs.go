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
