package permits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// BTS classifications.
const (
	ClassShared       = "shared"
	ClassOwnExisting  = "own_existing"
	ClassNewStructure = "new_structure"
)

// Deployment is a row of bts_deployments.
type Deployment struct {
	ID                  int64
	OperatorOrgID       int64
	StationCode         string
	Technologies        string
	Lat                 float64
	Lon                 float64
	UnitCode            string
	OnAirOn             infrashare.Date
	MountedOnAssetID    *int64
	PermitID            *int64
	ColocationRequestID *int64
	Classification      string
	Evidence            string
	Reclassified        bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// TableName pins the table.
func (Deployment) TableName() string { return "bts_deployments" }

// DeploymentView is a BTS record on the wire.
type DeploymentView struct {
	ID                  int64           `json:"id"`
	StationCode         string          `json:"station_code"`
	Operator            auth.OrgRef     `json:"operator"`
	Technologies        []string        `json:"technologies"`
	Location            Location        `json:"location"`
	UnitCode            string          `json:"unit_code"`
	OnAirOn             infrashare.Date `json:"on_air_on"`
	MountedOnAssetID    *int64          `json:"mounted_on_asset_id"`
	PermitID            *int64          `json:"permit_id"`
	ColocationRequestID *int64          `json:"colocation_request_id"`
	Classification      string          `json:"classification"`
	Evidence            json.RawMessage `json:"evidence"`
	Reclassified        bool            `json:"reclassified"`
	CreatedAt           time.Time       `json:"created_at"`
}

// NewDeployment is the body of POST /api/v1/bts.
type NewDeployment struct {
	StationCode         string           `json:"station_code" validate:"required,max=64"`
	Technologies        []string         `json:"technologies" validate:"required,min=1,max=4,dive,oneof=2G 3G 4G 5G"`
	Location            *Location        `json:"location"`
	UnitCode            string           `json:"unit_code" validate:"max=16"`
	OnAirOn             *infrashare.Date `json:"on_air_on" validate:"required"`
	MountedOnAssetID    *int64           `json:"mounted_on_asset_id" validate:"omitempty,gt=0"`
	PermitID            *int64           `json:"permit_id" validate:"omitempty,gt=0"`
	ColocationRequestID *int64           `json:"colocation_request_id" validate:"omitempty,gt=0"`
}

// Evidence is what a classification rests on, frozen with it as JSON.
// Bulk writers of BTS records (gen) write the same.
type Evidence struct {
	Rule         string         `json:"rule"`
	WindowDays   int            `json:"window_days"`
	Asset        *EvidenceAsset `json:"asset,omitempty"`
	PermitNumber string         `json:"permit_number,omitempty"`
	PermitNo     string         `json:"permit_no,omitempty"`
	AllocationID int64          `json:"allocation_id,omitempty"`
	Allocation   string         `json:"allocation,omitempty"`
}

// EvidenceAsset is the structure a station is mounted on, as classified.
type EvidenceAsset struct {
	ID          int64            `json:"id"`
	Code        string           `json:"code"`
	Owner       string           `json:"owner"`
	OwnerGroup  string           `json:"owner_group"`
	InServiceOn *infrashare.Date `json:"in_service_on"`
}

func (s *Service) orgByID(ctx context.Context, id int64) (auth.Organization, error) {
	var o auth.Organization
	err := s.db.Conn(ctx).Where("id = ?", id).First(&o).Error
	return o, err
}

func sameGroup(a, b auth.Organization) bool {
	if a.ID == b.ID {
		return true
	}
	return a.GroupCode != nil && b.GroupCode != nil && *a.GroupCode != "" && *a.GroupCode == *b.GroupCode
}

// LogDeployment records a new BTS station site of the actor's organisation
// and classifies it once, by DESIGN §2: new_structure when its structure
// came into service within the window before the on-air day or was
// permitted for it; own_existing when the structure pre-existed and is the
// operator's group's; shared when it pre-existed and is another's — which
// needs the operator's active allocation on it.
func (s *Service) LogDeployment(ctx context.Context, actor auth.Actor, in NewDeployment) (DeploymentView, error) {
	if !actor.Has(auth.RoleOperator) || actor.OrgKind != auth.KindOperator {
		return DeploymentView{}, infrashare.Forbidden("operators log their BTS stations")
	}
	in.StationCode = strings.TrimSpace(in.StationCode)
	if err := infrashare.Validate(in); err != nil {
		return DeploymentView{}, err
	}
	if (in.MountedOnAssetID == nil) == (in.PermitID == nil) {
		return DeploymentView{}, infrashare.Invalid("mounted_on_asset_id", "name the structure: an asset, or the permit of a structure not yet registered (one of them)")
	}
	window := 180
	if err := s.settings.Get(ctx, "bts.new_structure_window_days", &window); err != nil {
		return DeploymentView{}, err
	}
	me, err := s.orgByID(ctx, actor.OrgID)
	if err != nil {
		return DeploymentView{}, err
	}
	ev := Evidence{WindowDays: window}
	var class string
	var loc Location
	if in.PermitID != nil {
		p, err := s.load(ctx, actor, *in.PermitID)
		if err != nil || p.ApplicantOrgID != actor.OrgID {
			return DeploymentView{}, infrashare.Invalid("permit_id", "no permit of your organisation has this id")
		}
		if p.State != StateApproved && p.State != StateExempt {
			return DeploymentView{}, infrashare.Invalid("permit_id", "the permit is "+p.State+", not approved")
		}
		class, ev.Rule, ev.PermitNumber, ev.PermitNo = ClassNewStructure, "permitted for this deployment", p.Number, p.PermitNo
		loc = Location{Lat: p.Lat, Lon: p.Lon}
		if in.UnitCode == "" {
			in.UnitCode = p.UnitCode
		}
	} else {
		a, err := s.reg.Get(ctx, auth.SystemActor, *in.MountedOnAssetID)
		if err != nil {
			return DeploymentView{}, infrashare.Invalid("mounted_on_asset_id", "no such asset")
		}
		if a.Lat == nil {
			return DeploymentView{}, infrashare.Invalid("mounted_on_asset_id", "a BTS is mounted on a site (tower, pole, cabinet), not on a line")
		}
		owner, err := s.orgByID(ctx, a.Owner.ID)
		if err != nil {
			return DeploymentView{}, err
		}
		group := ""
		if owner.GroupCode != nil {
			group = *owner.GroupCode
		}
		ev.Asset = &EvidenceAsset{ID: a.ID, Code: a.Code, Owner: owner.Code, OwnerGroup: group, InServiceOn: a.InServiceOn}
		loc = Location{Lat: *a.Lat, Lon: *a.Lon}
		if in.UnitCode == "" {
			in.UnitCode = a.UnitCode
		}
		switch {
		case a.InServiceOn != nil && !a.InServiceOn.Before(in.OnAirOn.AddDays(-window)):
			class, ev.Rule = ClassNewStructure, fmt.Sprintf("the structure came into service within %d days before going on air", window)
		case sameGroup(owner, me):
			class, ev.Rule = ClassOwnExisting, "a pre-existing structure of the operator or its group"
		default:
			al, err := s.activeTenancy(ctx, a.ID, actor.OrgID)
			if err != nil {
				return DeploymentView{}, err
			}
			if al == nil {
				return DeploymentView{}, infrashare.Invalid("mounted_on_asset_id",
					"a station on another organisation's structure needs your active allocation on it (a co-location agreement, or an imported existing tenancy)")
			}
			class, ev.Rule, ev.AllocationID = ClassShared, "a pre-existing structure of another organisation, used under an allocation", al.ID
			ev.Allocation = al.Purpose + " " + al.ContractRef
			if in.ColocationRequestID == nil {
				in.ColocationRequestID = al.ColocationRequestID
			}
		}
	}
	if in.Location != nil {
		loc = *in.Location
	}
	unit, err := s.locate(ctx, &loc, in.UnitCode, *in.OnAirOn)
	if err != nil {
		return DeploymentView{}, err
	}
	evJSON, _ := json.Marshal(ev)
	techs := append([]string(nil), in.Technologies...)
	sort.Strings(techs)
	d := Deployment{OperatorOrgID: actor.OrgID, StationCode: in.StationCode, Technologies: strings.Join(uniq(techs), ","),
		Lat: loc.Lat, Lon: loc.Lon, UnitCode: unit, OnAirOn: *in.OnAirOn, MountedOnAssetID: in.MountedOnAssetID,
		PermitID: in.PermitID, ColocationRequestID: in.ColocationRequestID, Classification: class, Evidence: string(evJSON)}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.Conn(ctx).Create(&d).Error; err != nil {
			if strings.Contains(strings.ToLower(err.Error()), "unique") || errors.Is(err, gorm.ErrDuplicatedKey) {
				return &infrashare.Error{Code: infrashare.ECONFLICT, Message: "your organisation has logged this station code already",
					Fields: map[string]string{"station_code": "already logged"}}
			}
			return err
		}
		if err := s.bumpMonthlyCount(ctx, d, class, 1); err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "bts.log", ObjectType: "bts", ObjectID: strconv.FormatInt(d.ID, 10),
			After: map[string]any{"station_code": d.StationCode, "classification": class, "evidence": json.RawMessage(evJSON)}})
	})
	if err != nil {
		return DeploymentView{}, err
	}
	return s.deploymentView(ctx, d)
}

func uniq(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// activeTenancy is the operator's active allocation on an asset, if any.
func (s *Service) activeTenancy(ctx context.Context, assetID, orgID int64) (*registry.Allocation, error) {
	var al registry.Allocation
	err := s.db.Conn(ctx).Where("asset_id = ? AND tenant_org_id = ? AND status = ? AND purpose IN ?", assetID, orgID,
		registry.StatusActive, []string{registry.PurposeColocation, registry.PurposeExisting}).Order("id").First(&al).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &al, err
}

func (s *Service) deploymentView(ctx context.Context, d Deployment) (DeploymentView, error) {
	op, err := s.orgRef(ctx, d.OperatorOrgID)
	if err != nil {
		return DeploymentView{}, err
	}
	return DeploymentView{ID: d.ID, StationCode: d.StationCode, Operator: op, Technologies: strings.Split(d.Technologies, ","),
		Location: Location{Lat: d.Lat, Lon: d.Lon}, UnitCode: d.UnitCode, OnAirOn: d.OnAirOn,
		MountedOnAssetID: d.MountedOnAssetID, PermitID: d.PermitID, ColocationRequestID: d.ColocationRequestID,
		Classification: d.Classification, Evidence: json.RawMessage(d.Evidence), Reclassified: d.Reclassified,
		CreatedAt: d.CreatedAt}, nil
}

// visibleDeployments scopes BTS records: an operator sees its own; officers,
// the department and admins see all (they are the city's record).
func (s *Service) visibleDeployments(ctx context.Context, actor auth.Actor) *gorm.DB {
	q := s.db.Conn(ctx).Model(&Deployment{})
	if !actor.SeesEverything() && !actor.Has(auth.RoleOfficer) {
		q = q.Where("operator_org_id = ?", actor.OrgID)
	}
	return q
}

// GetDeployment returns one BTS record.
func (s *Service) GetDeployment(ctx context.Context, actor auth.Actor, id int64) (DeploymentView, error) {
	var d Deployment
	err := s.visibleDeployments(ctx, actor).Where("id = ?", id).First(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DeploymentView{}, infrashare.NotFound("BTS record")
	}
	if err != nil {
		return DeploymentView{}, err
	}
	return s.deploymentView(ctx, d)
}

// DeploymentFilter selects BTS records; the sharing-ratio report links its
// rows here.
type DeploymentFilter struct {
	Year           int
	Unit           string
	Operator       string
	Classification string
	// Newest lists the latest records first (the log page); the default
	// is by ascending id.
	Newest bool
	Limit  int
	Cursor string
}

// ListDeployments lists BTS records by id.
func (s *Service) ListDeployments(ctx context.Context, actor auth.Actor, f DeploymentFilter) ([]DeploymentView, string, error) {
	q := s.visibleDeployments(ctx, actor)
	if f.Year != 0 && (f.Year < refMinYear || f.Year > refMaxYear) {
		// Beyond four digits the bounds are no dates: PostgreSQL answered
		// 500 (found by TestHostileQueryParameters).
		return nil, "", infrashare.Invalid("year", fmt.Sprintf("must be between %d and %d", refMinYear, refMaxYear))
	}
	if f.Year != 0 {
		q = q.Where("on_air_on >= ? AND on_air_on <= ?", fmt.Sprintf("%04d-01-01", f.Year), fmt.Sprintf("%04d-12-31", f.Year))
	}
	if f.Unit != "" {
		q = q.Where("unit_code = ?", f.Unit)
	}
	if f.Operator != "" {
		var id int64
		s.db.Conn(ctx).Table("organizations").Where("code = ?", strings.ToUpper(f.Operator)).Pluck("id", &id)
		q = q.Where("operator_org_id = ?", id)
	}
	if f.Classification != "" {
		if !containsString([]string{ClassShared, ClassOwnExisting, ClassNewStructure}, f.Classification) {
			return nil, "", infrashare.Invalid("classification", "must be shared, own_existing or new_structure")
		}
		q = q.Where("classification = ?", f.Classification)
	}
	rows, next, err := auth.Page(q, "id", f.Cursor, f.Limit, f.Newest, func(r Deployment) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	out := make([]DeploymentView, 0, len(rows))
	for _, d := range rows {
		v, err := s.deploymentView(ctx, d)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// Reclassification is the body of POST /api/v1/bts/{id}/reclassify.
type Reclassification struct {
	Classification string `json:"classification" validate:"required,oneof=shared own_existing new_structure"`
	Reason         string `json:"reason" validate:"required,max=5000"`
}

// Reclassify changes a record's classification: the department only, with
// a reason, audited.
func (s *Service) Reclassify(ctx context.Context, actor auth.Actor, id int64, in Reclassification) (DeploymentView, error) {
	if !actor.Has(auth.RoleAuditor) || actor.OrgKind != auth.KindDepartment {
		return DeploymentView{}, infrashare.Forbidden("only the department reclassifies BTS records")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := infrashare.Validate(in); err != nil {
		return DeploymentView{}, err
	}
	var out DeploymentView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var d Deployment
		err := s.db.Conn(ctx).Where("id = ?", id).First(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return infrashare.NotFound("BTS record")
		}
		if err != nil {
			return err
		}
		// Conditional on the class read, so that the monthly counts move
		// from the class the record really had: a concurrent
		// reclassification makes this one a conflict, not a double move.
		res := s.db.Conn(ctx).Model(&Deployment{}).Where("id = ? AND classification = ?", id, d.Classification).
			Updates(map[string]any{"classification": in.Classification, "reclassified": true, "updated_at": s.clock.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return infrashare.Conflict("the record was reclassified meanwhile; reload it")
		}
		if err := s.bumpMonthlyCount(ctx, d, d.Classification, -1); err != nil {
			return err
		}
		if err := s.bumpMonthlyCount(ctx, d, in.Classification, 1); err != nil {
			return err
		}
		before := d.Classification
		d.Classification, d.Reclassified = in.Classification, true
		if out, err = s.deploymentView(ctx, d); err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "bts.reclassify", ObjectType: "bts", ObjectID: strconv.FormatInt(id, 10),
			Before: map[string]any{"classification": before}, After: map[string]any{"classification": in.Classification}, Reason: in.Reason})
	})
	return out, err
}
