package permits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// Permit states.
const (
	StateSubmitted = "submitted"
	StateReturned  = "returned"
	StateApproved  = "approved"
	StateRejected  = "rejected"
	StateExempt    = "exempt"
	StateWithdrawn = "withdrawn"
)

// JustificationReasons are the codes a candidate may be set aside with.
var JustificationReasons = []string{"no_capacity", "structural", "height", "coverage", "refused", "other"}

// Permit is a row of permits.
type Permit struct {
	ID               int64
	Number           string
	ApplicantOrgID   int64
	AuthorityOrgID   int64
	State            string
	StructureKind    string
	Class            string
	HeightM          float64
	Lat              float64
	Lon              float64
	UnitCode         string
	Address          string
	Purpose          string
	FiledOn          infrashare.Date
	SubmittedAt      time.Time
	DecisionDeadline *infrashare.Date
	RemainingDays    *int
	ReturnedAt       *time.Time
	SharingCheck     string
	Justifications   string
	PermitNo         string
	DossierCode      string
	Reason           string
	DecidedAt        *time.Time
	AssetID          *int64
	Version          int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName pins the table.
func (Permit) TableName() string { return "permits" }

// Location is a WGS84 position.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Candidate is a structure the applicant could share instead of building.
type Candidate struct {
	Asset     registry.AssetView `json:"asset"`
	DistanceM float64            `json:"distance_m"`
	Free      int                `json:"free"`
}

// SharingCheck is the frozen result of the sharing-first check.
type SharingCheck struct {
	RadiusM     float64     `json:"radius_m"`
	ToleranceM  float64     `json:"height_tolerance_m"`
	CheckedAt   time.Time   `json:"checked_at"`
	Candidates  []Candidate `json:"candidates"`
	MastKinds   []string    `json:"mast_kinds"`
	UnitCode    string      `json:"unit_code"`
	UnitIsUrban bool        `json:"urban"`
}

// Justification sets a candidate aside.
type Justification struct {
	AssetID             int64  `json:"asset_id" validate:"required,gt=0"`
	ReasonCode          string `json:"reason_code" validate:"required,oneof=no_capacity structural height coverage refused other"`
	Text                string `json:"text" validate:"max=5000"`
	ColocationRequestID *int64 `json:"colocation_request_id"`
}

// PermitView is an application as its parties see it.
type PermitView struct {
	ID               int64            `json:"id"`
	Number           string           `json:"number"`
	State            string           `json:"state"`
	Applicant        auth.OrgRef      `json:"applicant"`
	Authority        auth.OrgRef      `json:"authority"`
	Location         Location         `json:"location"`
	UnitCode         string           `json:"unit_code"`
	Address          string           `json:"address"`
	StructureKind    string           `json:"structure_kind"`
	Class            string           `json:"class"`
	HeightM          float64          `json:"height_m"`
	Purpose          string           `json:"purpose"`
	FiledOn          infrashare.Date  `json:"filed_on"`
	SharingCheck     SharingCheck     `json:"sharing_check"`
	Justifications   []Justification  `json:"justifications"`
	PermitNo         string           `json:"permit_no"`
	DossierCode      string           `json:"dossier_code"`
	DecisionDeadline *infrashare.Date `json:"decision_deadline"`
	Overdue          bool             `json:"overdue"`
	Reason           string           `json:"reason"`
	Attachments      []AttachmentView `json:"attachments"`
	Version          int              `json:"version"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

// NewPermit is the body of POST /api/v1/permits.
type NewPermit struct {
	StructureKind  string          `json:"structure_kind" validate:"required,oneof=tower pole"`
	Class          string          `json:"class" validate:"max=16"`
	HeightM        float64         `json:"height_m" validate:"required,gt=0,lte=300"`
	Location       *Location       `json:"location" validate:"required"`
	UnitCode       string          `json:"unit_code" validate:"max=16"`
	Address        string          `json:"address" validate:"max=500"`
	Purpose        string          `json:"purpose" validate:"required,max=5000"`
	Justifications []Justification `json:"justifications" validate:"max=500,dive"`
}

// CheckQuery is the live sharing check of the application form.
type CheckQuery struct {
	StructureKind string    `json:"structure_kind" validate:"required,oneof=tower pole"`
	HeightM       float64   `json:"height_m" validate:"required,gt=0,lte=300"`
	Location      *Location `json:"location" validate:"required"`
	UnitCode      string    `json:"unit_code" validate:"max=16"`
}

// checkRules are the settings of the sharing check.
type checkRules struct {
	urbanM, ruralM, toleranceM float64
	mastKinds                  []string
}

func (s *Service) checkRules(ctx context.Context) (checkRules, error) {
	r := checkRules{urbanM: 100, ruralM: 500, toleranceM: 5, mastKinds: []string{"tower", "pole"}}
	for key, dst := range map[string]any{"permits.sharing_radius_urban_m": &r.urbanM, "permits.sharing_radius_rural_m": &r.ruralM,
		"permits.height_tolerance_m": &r.toleranceM, "permits.mast_capable_kinds": &r.mastKinds} {
		if err := s.settings.Get(ctx, key, dst); err != nil {
			return r, err
		}
	}
	return r, nil
}

// locate checks a position and resolves its unit on day.
func (s *Service) locate(ctx context.Context, loc *Location, given string, day infrashare.Date) (string, error) {
	area, err := s.reg.ServiceArea(ctx)
	if err != nil {
		return "", err
	}
	if loc == nil || math.IsNaN(loc.Lat) || math.IsNaN(loc.Lon) || loc.Lat < area.MinLat || loc.Lat > area.MaxLat || loc.Lon < area.MinLon || loc.Lon > area.MaxLon {
		return "", infrashare.Invalid("location", fmt.Sprintf("must be inside the service area (lat %.1f–%.1f, lon %.1f–%.1f)", area.MinLat, area.MaxLat, area.MinLon, area.MaxLon))
	}
	unit, err := s.reg.ResolveUnit(ctx, loc.Lat, loc.Lon, given, day)
	if err != nil {
		return "", err
	}
	if unit == "" {
		return "", infrashare.Invalid("unit_code", "is required where no unit boundary is loaded")
	}
	return unit, nil
}

// urban says whether the unit, or the district it lies in, is urban.
func (s *Service) urban(ctx context.Context, code string, day infrashare.Date) (bool, error) {
	codes := []string{code}
	anc, err := s.units.Ancestors(ctx, code, day)
	if err != nil {
		return false, err
	}
	codes = append(codes, anc...)
	for _, c := range codes {
		var rows []struct {
			Urban     bool
			Level     string
			ValidFrom infrashare.Date
			ValidTo   infrashare.Date
		}
		if err := s.db.Conn(ctx).Table("admin_units").Select("urban, level, valid_from, valid_to").Where("code = ?", c).Scan(&rows).Error; err != nil {
			return false, err
		}
		for _, r := range rows {
			if !day.Before(r.ValidFrom) && (r.ValidTo.IsZero() || day.Before(r.ValidTo)) && r.Level != "province" {
				return r.Urban, nil
			}
		}
	}
	return false, nil
}

// sharingCheck finds the structures the applicant could share: mast-capable
// kinds within the radius, in service or planned under an approved permit,
// with a free unit, and not lower than the height asked minus the
// tolerance (unknown heights count); the applicant's own included. The
// applicant sees them as any register query shows them (restricted sites
// coarsened).
func (s *Service) sharingCheck(ctx context.Context, actor auth.Actor, loc Location, height float64, unit string, day infrashare.Date) (SharingCheck, error) {
	rules, err := s.checkRules(ctx)
	if err != nil {
		return SharingCheck{}, err
	}
	urban, err := s.urban(ctx, unit, day)
	if err != nil {
		return SharingCheck{}, err
	}
	radius := rules.ruralM
	if urban {
		radius = rules.urbanM
	}
	near, err := s.reg.Nearby(ctx, actor, registry.NearbyQuery{Lat: loc.Lat, Lon: loc.Lon, RadiusM: radius,
		Kinds: rules.mastKinds, MinFree: 1, Limit: auth.MaxLimit})
	if err != nil {
		return SharingCheck{}, err
	}
	out := SharingCheck{RadiusM: radius, ToleranceM: rules.toleranceM, CheckedAt: s.clock.Now(), MastKinds: rules.mastKinds,
		UnitCode: unit, UnitIsUrban: urban, Candidates: []Candidate{}}
	for _, n := range near {
		a := n.Asset
		switch a.Status {
		case "in_service":
		case "planned":
			ok, err := s.plannedUnderApprovedPermit(ctx, a.ID)
			if err != nil {
				return SharingCheck{}, err
			}
			if !ok {
				continue
			}
		default:
			continue
		}
		if a.HeightM != nil && *a.HeightM < height-rules.toleranceM {
			continue
		}
		out.Candidates = append(out.Candidates, Candidate{Asset: a, DistanceM: n.DistanceM, Free: a.Capacity.Free})
	}
	return out, nil
}

func (s *Service) plannedUnderApprovedPermit(ctx context.Context, assetID int64) (bool, error) {
	var n int64
	err := s.db.Conn(ctx).Model(&Permit{}).Where("asset_id = ? AND state IN ?", assetID, []string{StateApproved, StateExempt}).Count(&n).Error
	return n > 0, err
}

// Check is the live sharing check, without filing anything.
func (s *Service) Check(ctx context.Context, actor auth.Actor, q CheckQuery) (SharingCheck, error) {
	if !actor.Has(auth.RoleOperator) {
		return SharingCheck{}, infrashare.Forbidden("operators check before they apply")
	}
	if err := infrashare.Validate(q); err != nil {
		return SharingCheck{}, err
	}
	day := s.settings.Today()
	unit, err := s.locate(ctx, q.Location, q.UnitCode, day)
	if err != nil {
		return SharingCheck{}, err
	}
	return s.sharingCheck(ctx, actor, *q.Location, q.HeightM, unit, day)
}

// checkJustifications requires one justification per candidate; a refusal
// must cite the applicant's own co-location request on that asset that was
// rejected or left overdue (or whose rejection the department upheld).
// Justifications of non-candidates are dropped.
func (s *Service) checkJustifications(ctx context.Context, actor auth.Actor, check SharingCheck, given []Justification) ([]Justification, error) {
	byAsset := map[int64]Justification{}
	for _, j := range given {
		byAsset[j.AssetID] = j
	}
	var kept []Justification
	fields := infrashare.FieldErrors{}
	var missing []Candidate
	for _, c := range check.Candidates {
		j, ok := byAsset[c.Asset.ID]
		if !ok {
			missing = append(missing, c)
			continue
		}
		j.Text = strings.TrimSpace(j.Text)
		key := fmt.Sprintf("justifications[%d]", c.Asset.ID)
		switch {
		case !containsString(JustificationReasons, j.ReasonCode):
			fields.Add(key+".reason_code", "must be one of: "+strings.Join(JustificationReasons, ", "))
		case j.Text == "":
			fields.Add(key+".text", "explain why this structure cannot be shared")
		case j.ReasonCode == "refused":
			if err := s.verifyRefusal(ctx, actor, c.Asset.ID, j.ColocationRequestID); err != nil {
				fields.Add(key+".colocation_request_id", err.Error())
			}
		}
		kept = append(kept, j)
	}
	if len(missing) > 0 {
		fields.Add("justifications", fmt.Sprintf("%d structure(s) within %.0f m could be shared: justify each, or ask to share", len(missing), check.RadiusM))
	}
	if len(fields) > 0 {
		return nil, &infrashare.Error{Code: infrashare.EINVALID, Message: "the sharing check found structures to share first",
			Fields: fields, Details: map[string]any{"candidates": check.Candidates}}
	}
	if kept == nil {
		kept = []Justification{}
	}
	return kept, nil
}

func (s *Service) verifyRefusal(ctx context.Context, actor auth.Actor, assetID int64, requestID *int64) error {
	if requestID == nil {
		return errors.New("cite your co-location request on this structure that was refused")
	}
	r, err := s.reg.GetRequest(ctx, auth.SystemActor, *requestID)
	if err != nil {
		return errors.New("no such co-location request")
	}
	if r.Requester.ID != actor.OrgID {
		return errors.New("is not your organisation's request")
	}
	onAsset := false
	for _, it := range r.Items {
		onAsset = onAsset || it.AssetID == assetID
	}
	if !onAsset {
		return errors.New("does not ask for this structure")
	}
	switch r.State {
	case registry.StateRejected, registry.StateOverdue, registry.StateClosed:
		return nil
	}
	return fmt.Errorf("is %s, not rejected or overdue", r.State)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// authorityFor is the authority whose jurisdiction holds the unit (or a
// unit it lies in) valid on day.
func (s *Service) authorityFor(ctx context.Context, unit string, day infrashare.Date) (auth.Organization, error) {
	codes := []string{unit}
	anc, err := s.units.Ancestors(ctx, unit, day)
	if err != nil {
		return auth.Organization{}, err
	}
	codes = append(codes, anc...)
	for _, c := range codes {
		var org auth.Organization
		err := s.db.Conn(ctx).Joins("JOIN org_jurisdictions j ON j.org_id = organizations.id").
			Where("j.unit_code = ? AND organizations.kind = ?", c, auth.KindAuthority).Order("organizations.id").First(&org).Error
		if err == nil {
			return org, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return auth.Organization{}, err
		}
	}
	return auth.Organization{}, infrashare.Invalid("unit_code", "no authority decides for unit "+unit+" on the filing date")
}

// exempt reports whether class is permit-exempt on day (a dated setting).
func (s *Service) exempt(ctx context.Context, class string, day infrashare.Date) (bool, error) {
	if class == "" {
		return false, nil
	}
	var classes []string
	if _, err := s.settings.GetOn(ctx, "permits.exempt_classes", day, &classes); err != nil {
		return false, err
	}
	return containsString(classes, class), nil
}

// Submit files an application: it goes to the authority of the unit, the
// sharing check runs and is frozen into it, and every candidate must be
// justified. A permit-exempt class becomes an exempt notification after the
// same check.
func (s *Service) Submit(ctx context.Context, actor auth.Actor, in NewPermit) (PermitView, error) {
	if !actor.Has(auth.RoleOperator) || actor.OrgKind != auth.KindOperator {
		return PermitView{}, infrashare.Forbidden("operators apply for permits")
	}
	in.Class = strings.TrimSpace(in.Class)
	if err := infrashare.Validate(in); err != nil {
		return PermitView{}, err
	}
	if in.Class != "" {
		classes, err := s.reg.Classes(ctx)
		if err != nil {
			return PermitView{}, err
		}
		if !containsString(classes, in.Class) {
			return PermitView{}, infrashare.Invalid("class", "must be one of: "+strings.Join(classes, ", "))
		}
	}
	day := s.settings.Today()
	unit, err := s.locate(ctx, in.Location, in.UnitCode, day)
	if err != nil {
		return PermitView{}, err
	}
	authority, err := s.authorityFor(ctx, unit, day)
	if err != nil {
		return PermitView{}, err
	}
	check, err := s.sharingCheck(ctx, actor, *in.Location, in.HeightM, unit, day)
	if err != nil {
		return PermitView{}, err
	}
	justs, err := s.checkJustifications(ctx, actor, check, in.Justifications)
	if err != nil {
		return PermitView{}, err
	}
	exempt, err := s.exempt(ctx, in.Class, day)
	if err != nil {
		return PermitView{}, err
	}
	var id int64
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		now := s.clock.Now()
		n, err := s.db.NextCounter(ctx, fmt.Sprintf("permit-application:%d", day.Year))
		if err != nil {
			return err
		}
		checkJSON, _ := json.Marshal(check)
		justJSON, _ := json.Marshal(justs)
		p := Permit{Number: fmt.Sprintf("HS-%d-%05d", day.Year, n), ApplicantOrgID: actor.OrgID, AuthorityOrgID: authority.ID,
			State: StateSubmitted, StructureKind: in.StructureKind, Class: in.Class, HeightM: in.HeightM,
			Lat: in.Location.Lat, Lon: in.Location.Lon, UnitCode: unit, Address: strings.TrimSpace(in.Address),
			Purpose: strings.TrimSpace(in.Purpose), FiledOn: day, SubmittedAt: now, SharingCheck: string(checkJSON),
			Justifications: string(justJSON), Version: 1}
		if exempt {
			p.State = StateExempt
		} else {
			deadline, err := s.decisionDeadline(ctx, day)
			if err != nil {
				return err
			}
			p.DecisionDeadline = &deadline
		}
		if err := s.db.Conn(ctx).Create(&p).Error; err != nil {
			return err
		}
		id = p.ID
		return s.audit.Record(ctx, actor, auth.Change{Action: "permit.submit", ObjectType: "permit",
			ObjectID: strconv.FormatInt(p.ID, 10), After: map[string]any{"number": p.Number, "state": p.State,
				"authority": authority.Code, "candidates": len(check.Candidates), "justifications": justs}})
	})
	if err != nil {
		return PermitView{}, err
	}
	return s.Get(ctx, actor, id)
}

func (s *Service) decisionDeadline(ctx context.Context, from infrashare.Date) (infrashare.Date, error) {
	days := 20
	if err := s.settings.Get(ctx, "permits.decision_working_days", &days); err != nil {
		return infrashare.Date{}, err
	}
	return s.AddWorkingDays(ctx, from, days)
}

// load reads an application the actor may see: the applicant, officers of
// its authority, the department and admins; anyone else gets not found.
func (s *Service) load(ctx context.Context, actor auth.Actor, id int64) (Permit, error) {
	var p Permit
	err := s.db.Conn(ctx).Where("id = ?", id).First(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, infrashare.NotFound("permit application")
	}
	if err != nil {
		return p, err
	}
	if !actor.SeesEverything() && actor.OrgID != p.ApplicantOrgID && actor.OrgID != p.AuthorityOrgID {
		return Permit{}, infrashare.NotFound("permit application")
	}
	return p, nil
}

// Get returns one application.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (PermitView, error) {
	p, err := s.load(ctx, actor, id)
	if err != nil {
		return PermitView{}, err
	}
	v, err := s.view(ctx, p)
	if err != nil {
		return PermitView{}, err
	}
	if v.Attachments, err = s.attachments(ctx, p.ID); err != nil {
		return PermitView{}, err
	}
	return v, nil
}

func (s *Service) orgRef(ctx context.Context, id int64) (auth.OrgRef, error) {
	var o auth.Organization
	if err := s.db.Conn(ctx).Where("id = ?", id).First(&o).Error; err != nil {
		return auth.OrgRef{}, err
	}
	return auth.OrgRef{ID: o.ID, Code: o.Code, Name: o.Name}, nil
}

func (s *Service) view(ctx context.Context, p Permit) (PermitView, error) {
	app, err := s.orgRef(ctx, p.ApplicantOrgID)
	if err != nil {
		return PermitView{}, err
	}
	aut, err := s.orgRef(ctx, p.AuthorityOrgID)
	if err != nil {
		return PermitView{}, err
	}
	v := PermitView{ID: p.ID, Number: p.Number, State: p.State, Applicant: app, Authority: aut,
		Location: Location{Lat: p.Lat, Lon: p.Lon}, UnitCode: p.UnitCode, Address: p.Address,
		StructureKind: p.StructureKind, Class: p.Class, HeightM: p.HeightM, Purpose: p.Purpose, FiledOn: p.FiledOn,
		PermitNo: p.PermitNo, DossierCode: p.DossierCode, DecisionDeadline: p.DecisionDeadline, Reason: p.Reason,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Attachments: []AttachmentView{}}
	_ = json.Unmarshal([]byte(p.SharingCheck), &v.SharingCheck)
	_ = json.Unmarshal([]byte(p.Justifications), &v.Justifications)
	if v.Justifications == nil {
		v.Justifications = []Justification{}
	}
	if v.SharingCheck.Candidates == nil {
		v.SharingCheck.Candidates = []Candidate{}
	}
	if p.State == StateSubmitted && p.DecisionDeadline != nil {
		v.Overdue = s.settings.Today().After(*p.DecisionDeadline)
	}
	return v, nil
}

// PermitAction is the body of POST /api/v1/permits/{id}/actions.
type PermitAction struct {
	Action         string          `json:"action" validate:"required,oneof=approve return reject withdraw resubmit"`
	Reason         string          `json:"reason" validate:"max=5000"`
	PermitNo       string          `json:"permit_no" validate:"max=64"`
	DossierCode    string          `json:"dossier_code" validate:"max=64"`
	Justifications []Justification `json:"justifications" validate:"max=500,dive"`
}

// Act decides or moves an application: officers of its authority approve,
// return or reject it; the applicant withdraws it before a decision or
// resubmits a returned one (which re-runs the sharing check). The state
// change is conditional on the state and version, so it happens once.
func (s *Service) Act(ctx context.Context, actor auth.Actor, id int64, a PermitAction) (PermitView, error) {
	if err := infrashare.Validate(a); err != nil {
		return PermitView{}, err
	}
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		p, err := s.load(ctx, actor, id)
		if err != nil {
			return err
		}
		officer := actor.Has(auth.RoleOfficer) && actor.OrgID == p.AuthorityOrgID
		applicant := actor.Has(auth.RoleOperator) && actor.OrgID == p.ApplicantOrgID
		switch a.Action {
		case "approve", "return", "reject":
			if !officer {
				return infrashare.Forbidden("only officers of %s decide this application", "the authority")
			}
			if p.State != StateSubmitted {
				return infrashare.Conflict("an application that is %s cannot be decided", p.State)
			}
		case "withdraw":
			if !applicant {
				return infrashare.Forbidden("only the applicant withdraws an application")
			}
			if p.State != StateSubmitted && p.State != StateReturned {
				return infrashare.Conflict("an application that is %s cannot be withdrawn", p.State)
			}
		case "resubmit":
			if !applicant {
				return infrashare.Forbidden("only the applicant resubmits an application")
			}
			if p.State != StateReturned {
				return infrashare.Conflict("only a returned application is resubmitted; this one is %s", p.State)
			}
		}
		next := p
		today := s.settings.Today()
		now := s.clock.Now()
		reason := strings.TrimSpace(a.Reason)
		switch a.Action {
		case "approve":
			next.State, next.DecidedAt, next.Reason = StateApproved, &now, reason
			next.DossierCode = strings.TrimSpace(a.DossierCode)
			next.PermitNo = strings.TrimSpace(a.PermitNo)
			if next.PermitNo == "" {
				authority, err := s.orgRef(ctx, p.AuthorityOrgID)
				if err != nil {
					return err
				}
				n, err := s.db.NextCounter(ctx, permitNoCounter(authority.Code, today.Year))
				if err != nil {
					return err
				}
				next.PermitNo = formatPermitNo(authority.Code, today.Year, n)
			}
		case "return":
			if reason == "" {
				return infrashare.Invalid("reason", "say what is missing")
			}
			// The decision clock pauses: keep the working days left.
			left := 0
			if p.DecisionDeadline != nil {
				if left, err = s.WorkingDaysBetween(ctx, today, *p.DecisionDeadline); err != nil {
					return err
				}
			}
			next.State, next.Reason, next.RemainingDays, next.ReturnedAt = StateReturned, reason, &left, &now
		case "reject":
			if reason == "" {
				return infrashare.Invalid("reason", "a rejection needs its reason")
			}
			next.State, next.DecidedAt, next.Reason = StateRejected, &now, reason
		case "withdraw":
			next.State, next.Reason = StateWithdrawn, reason
		case "resubmit":
			check, err := s.sharingCheck(ctx, actor, Location{Lat: p.Lat, Lon: p.Lon}, p.HeightM, p.UnitCode, today)
			if err != nil {
				return err
			}
			justs := a.Justifications
			if justs == nil {
				_ = json.Unmarshal([]byte(p.Justifications), &justs)
			}
			kept, err := s.checkJustifications(ctx, actor, check, justs)
			if err != nil {
				return err
			}
			checkJSON, _ := json.Marshal(check)
			justJSON, _ := json.Marshal(kept)
			next.SharingCheck, next.Justifications = string(checkJSON), string(justJSON)
			left := 0
			if p.RemainingDays != nil {
				left = *p.RemainingDays
			}
			deadline, err := s.AddWorkingDays(ctx, today, left)
			if err != nil {
				return err
			}
			next.State, next.DecisionDeadline, next.RemainingDays, next.ReturnedAt, next.Reason = StateSubmitted, &deadline, nil, nil, reason
		}
		res := s.db.Conn(ctx).Model(&Permit{}).Where("id = ? AND state = ? AND version = ?", p.ID, p.State, p.Version).
			Updates(map[string]any{"state": next.State, "decided_at": next.DecidedAt, "reason": next.Reason,
				"permit_no": next.PermitNo, "dossier_code": next.DossierCode, "remaining_days": next.RemainingDays,
				"returned_at": next.ReturnedAt, "decision_deadline": next.DecisionDeadline, "sharing_check": next.SharingCheck,
				"justifications": next.Justifications, "version": p.Version + 1, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return infrashare.Conflict("the application changed meanwhile; reload it")
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "permit." + a.Action, ObjectType: "permit",
			ObjectID: strconv.FormatInt(p.ID, 10), Before: map[string]any{"state": p.State},
			After: map[string]any{"state": next.State, "permit_no": next.PermitNo, "dossier_code": next.DossierCode}, Reason: next.Reason})
	})
	if err != nil {
		return PermitView{}, err
	}
	return s.Get(ctx, actor, id)
}

// PermitFilter selects applications.
type PermitFilter struct {
	States  []string
	Overdue bool
	Limit   int
	Cursor  string
}

// List lists the applications the actor may see, newest first: an
// operator its own, an officer its authority's queue, the department all.
func (s *Service) List(ctx context.Context, actor auth.Actor, f PermitFilter) ([]PermitView, string, error) {
	q := s.db.Conn(ctx).Model(&Permit{})
	if !actor.SeesEverything() {
		q = q.Where("(applicant_org_id = ? OR authority_org_id = ?)", actor.OrgID, actor.OrgID)
	}
	for _, st := range f.States {
		if !containsString([]string{StateSubmitted, StateReturned, StateApproved, StateRejected, StateExempt, StateWithdrawn}, st) {
			return nil, "", infrashare.Invalid("state", "unknown state "+st)
		}
	}
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if f.Overdue {
		q = q.Where("state = ? AND decision_deadline < ?", StateSubmitted, s.settings.Today().String())
	}
	rows, next, err := auth.Page(q, "id", f.Cursor, f.Limit, true, func(r Permit) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	out := make([]PermitView, 0, len(rows))
	for _, p := range rows {
		v, err := s.view(ctx, p)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}
