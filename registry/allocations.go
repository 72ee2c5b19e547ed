package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
)

// Allocation is who occupies how many units of an asset, and why.
type Allocation struct {
	ID                  int64            `json:"id"`
	AssetID             int64            `json:"asset_id"`
	TenantOrgID         int64            `json:"-"`
	Purpose             string           `json:"purpose"`
	Units               int              `json:"units"`
	Status              string           `json:"status"`
	Since               infrashare.Date  `json:"since"`
	Until               *infrashare.Date `json:"until"`
	ContractRef         string           `json:"contract_ref"`
	RentVND             *int64           `json:"rent_vnd" gorm:"column:rent_vnd"`
	ColocationRequestID *int64           `json:"colocation_request_id"`
	Note                string           `json:"note"`
	CreatedAt           time.Time        `json:"created_at"`
	UpdatedAt           time.Time        `json:"updated_at"`
}

// TableName pins the table.
func (Allocation) TableName() string { return "allocations" }

// AllocationView is an allocation with its tenant named.
type AllocationView struct {
	Allocation
	Tenant auth.OrgRef `json:"tenant"`
}

// Allocation purposes and statuses.
const (
	PurposeOwner      = "owner"
	PurposeColocation = "colocation"
	PurposeExisting   = "existing"

	StatusReserved = "reserved"
	StatusActive   = "active"
	StatusReleased = "released"
)

// capacityConflict says how much room is left, for a 409.
func capacityConflict(a Asset, asked int) error {
	return &infrashare.Error{Code: infrashare.ECONFLICT,
		Message: fmt.Sprintf("asset %s has %d free %s(s); %d asked for", a.Code, a.Free(), a.CapacityUnit, asked),
		Details: map[string]any{"asset_id": a.ID, "free": a.Free()}}
}

// reserve holds n units of an asset, or fails with the free count. The
// UPDATE is conditional, so no interleaving of any number of requests on
// any number of replicas can overbook.
func (s *Service) reserve(ctx context.Context, assetID int64, n int) error {
	return s.moveUnits(ctx, assetID, n, "reserved_units = reserved_units + ?",
		"reserved_units + active_units + ? <= capacity_total", n)
}

// occupy puts n units straight into use (an owner's own use, an imported
// tenancy).
func (s *Service) occupy(ctx context.Context, assetID int64, n int) error {
	return s.moveUnits(ctx, assetID, n, "active_units = active_units + ?",
		"reserved_units + active_units + ? <= capacity_total", n)
}

// activate turns n reserved units into active ones.
func (s *Service) activate(ctx context.Context, assetID int64, n int) error {
	return s.moveUnits(ctx, assetID, n, "reserved_units = reserved_units - ?, active_units = active_units + ?",
		"reserved_units >= ?", n, n)
}

// unreserve gives n reserved units back.
func (s *Service) unreserve(ctx context.Context, assetID int64, n int) error {
	return s.moveUnits(ctx, assetID, n, "reserved_units = reserved_units - ?", "reserved_units >= ?", n)
}

// vacate gives n active units back.
func (s *Service) vacate(ctx context.Context, assetID int64, n int) error {
	return s.moveUnits(ctx, assetID, n, "active_units = active_units - ?", "active_units >= ?", n)
}

func (s *Service) moveUnits(ctx context.Context, assetID int64, n int, set, cond string, setArgs ...any) error {
	args := append([]any{}, setArgs...)
	args = append(args, assetID, n)
	res := s.db.Conn(ctx).Exec("UPDATE assets SET "+set+" WHERE id = ? AND "+cond, args...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		return nil
	}
	a, err := s.load(ctx, assetID)
	if err != nil {
		return err
	}
	return capacityConflict(a, n)
}

// AllocationInput is the body of POST /api/v1/assets/{id}/allocations: the
// owner records its own use, or an existing tenancy.
type AllocationInput struct {
	Units       int              `json:"units" validate:"required,gte=1,lte=100000"`
	Purpose     string           `json:"purpose" validate:"omitempty,oneof=owner existing"`
	Tenant      string           `json:"tenant" validate:"max=32"`
	Since       *infrashare.Date `json:"since"`
	ContractRef string           `json:"contract_ref" validate:"max=100"`
	RentVND     *int64           `json:"rent_vnd" validate:"omitempty,gte=0,lte=1000000000000"`
	Note        string           `json:"note" validate:"max=2000"`
}

// Allocate records units in use on an asset of the actor's organisation.
func (s *Service) Allocate(ctx context.Context, actor auth.Actor, assetID int64, in AllocationInput) (AllocationView, error) {
	if err := requireOperator(actor); err != nil {
		return AllocationView{}, err
	}
	if err := infrashare.Validate(in); err != nil {
		return AllocationView{}, err
	}
	if in.Purpose == "" {
		in.Purpose = PurposeOwner
	}
	var out AllocationView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		a, err := s.load(ctx, assetID)
		if err != nil {
			return err
		}
		if a.OwnerID != actor.OrgID {
			return infrashare.Forbidden("only the owner records allocations on its assets")
		}
		tenant, err := s.tenantFor(ctx, actor, in.Purpose, in.Tenant)
		if err != nil {
			return err
		}
		since := s.settings.Today()
		if in.Since != nil {
			since = *in.Since
		}
		al := Allocation{AssetID: a.ID, TenantOrgID: tenant.ID, Purpose: in.Purpose, Units: in.Units,
			Status: StatusActive, Since: since, ContractRef: strings.TrimSpace(in.ContractRef), RentVND: in.RentVND,
			Note: strings.TrimSpace(in.Note)}
		if err := s.occupy(ctx, a.ID, in.Units); err != nil {
			return err
		}
		if err := s.db.Conn(ctx).Create(&al).Error; err != nil {
			return err
		}
		out = AllocationView{Allocation: al, Tenant: refOf(tenant)}
		return s.audit.Record(ctx, actor, auth.Change{Action: "allocation.create", ObjectType: "asset",
			ObjectID: strconv.FormatInt(a.ID, 10), After: out})
	})
	return out, err
}

// tenantFor: the owner itself for its own use; another organisation, named
// by code, for an existing tenancy.
func (s *Service) tenantFor(ctx context.Context, actor auth.Actor, purpose, code string) (auth.Organization, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if purpose == PurposeOwner {
		o, _, err := s.orgs.get(ctx, actor.OrgID)
		if err == nil && code != "" && code != o.Code {
			return o, infrashare.Invalid("tenant", "own use has no other tenant; use purpose existing for a tenancy")
		}
		return o, err
	}
	if code == "" {
		return auth.Organization{}, infrashare.Invalid("tenant", "is required for an existing tenancy (an organisation code)")
	}
	o, ok, err := s.orgs.byCodeGet(ctx, code)
	if err != nil {
		return o, err
	}
	if !ok || o.Kind != auth.KindOperator {
		return o, infrashare.Invalid("tenant", "no operator has this code")
	}
	if o.ID == actor.OrgID {
		return o, infrashare.Invalid("tenant", "your own use is purpose owner")
	}
	return o, nil
}

// Release ends an owner-use or existing allocation on an asset of the
// actor's organisation (co-location allocations end through their request).
func (s *Service) Release(ctx context.Context, actor auth.Actor, assetID, allocationID int64) (AllocationView, error) {
	if err := requireOperator(actor); err != nil {
		return AllocationView{}, err
	}
	var out AllocationView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		a, err := s.load(ctx, assetID)
		if err != nil {
			return err
		}
		if a.OwnerID != actor.OrgID {
			return infrashare.Forbidden("only the owner releases allocations on its assets")
		}
		var al Allocation
		err = s.db.Conn(ctx).Where("id = ? AND asset_id = ?", allocationID, assetID).First(&al).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return infrashare.NotFound("allocation")
		}
		if err != nil {
			return err
		}
		if al.Purpose == PurposeColocation {
			return infrashare.Conflict("a co-location allocation ends through its request (terminate)")
		}
		if al.Status != StatusActive {
			return infrashare.Conflict("the allocation is %s already", al.Status)
		}
		today := s.settings.Today()
		res := s.db.Conn(ctx).Model(&Allocation{}).Where("id = ? AND status = ?", al.ID, StatusActive).
			Updates(map[string]any{"status": StatusReleased, "until": today, "updated_at": s.clock.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return infrashare.Conflict("the allocation changed meanwhile")
		}
		if err := s.vacate(ctx, assetID, al.Units); err != nil {
			return err
		}
		before := al
		al.Status, al.Until = StatusReleased, &today
		tenant, _, err := s.orgs.get(ctx, al.TenantOrgID)
		if err != nil {
			return err
		}
		out = AllocationView{Allocation: al, Tenant: refOf(tenant)}
		return s.audit.Record(ctx, actor, auth.Change{Action: "allocation.release", ObjectType: "asset",
			ObjectID: strconv.FormatInt(assetID, 10), Before: before, After: out.Allocation})
	})
	return out, err
}

// Allocations lists who occupies an asset. The owner, the department and
// admins see all; a tenant sees its own; anyone else sees none.
func (s *Service) Allocations(ctx context.Context, actor auth.Actor, assetID int64) ([]AllocationView, error) {
	a, err := s.load(ctx, assetID)
	if err != nil {
		return nil, err
	}
	q := s.db.Conn(ctx).Where("asset_id = ?", assetID)
	if !actor.SeesEverything() && a.OwnerID != actor.OrgID {
		q = q.Where("tenant_org_id = ?", actor.OrgID)
	}
	var rows []Allocation
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]AllocationView, 0, len(rows))
	for _, r := range rows {
		t, _, err := s.orgs.get(ctx, r.TenantOrgID)
		if err != nil {
			return nil, err
		}
		out = append(out, AllocationView{Allocation: r, Tenant: refOf(t)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// History is an asset's audit events, for those who may see its commercial
// side: the owner, a tenant of it, the department and admins.
func (s *Service) History(ctx context.Context, actor auth.Actor, assetID int64, limit int, cursor string) ([]auth.AuditEvent, string, error) {
	a, err := s.load(ctx, assetID)
	if err != nil {
		return nil, "", err
	}
	if !actor.SeesEverything() && a.OwnerID != actor.OrgID {
		var n int64
		if err := s.db.Conn(ctx).Model(&Allocation{}).Where("asset_id = ? AND tenant_org_id = ?", assetID, actor.OrgID).Count(&n).Error; err != nil {
			return nil, "", err
		}
		if n == 0 {
			return nil, "", infrashare.Forbidden("the history of an asset is for its owner, its tenants and the department")
		}
	}
	return s.audit.ListForObject(ctx, "asset", strconv.FormatInt(assetID, 10), limit, cursor)
}
