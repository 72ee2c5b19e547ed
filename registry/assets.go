package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
)

// Service is the register: assets, capacity and allocations, search,
// import and export. Every public method takes the acting Actor and applies
// the ownership and visibility rules itself.
type Service struct {
	db       *database.DB
	clock    infrashare.Clock
	audit    *auth.Audit
	settings *auth.Settings
	units    *Units
	orgs     *orgCache
	notify   notifier
}

// NewService returns the register.
func NewService(db *database.DB, clock infrashare.Clock, audit *auth.Audit, settings *auth.Settings, units *Units) *Service {
	return &Service{db: db, clock: clock, audit: audit, settings: settings, units: units, orgs: &orgCache{db: db}}
}

// Statuses and capacity units.
var (
	assetStatuses  = []string{"planned", "under_construction", "in_service", "decommissioned"}
	capacityUnits  = map[string]bool{"tenant_slot": true, "tube": true, "cable_slot": true}
	mastKinds      = map[string]bool{"tower": true, "pole": true}
	ductKinds      = map[string]bool{"duct": true, "conduit": true}
	defaultUnitFor = map[string]string{"tower": "tenant_slot", "pole": "tenant_slot", "cabinet": "cable_slot",
		"manhole": "cable_slot", "tunnel": "cable_slot", "duct": "tube", "conduit": "tube"}
)

// Asset is a row of the register.
type Asset struct {
	ID            int64
	OwnerID       int64
	Code          string
	Kind          string
	Status        string
	Geometry      string
	Lat           *float64
	Lon           *float64
	CoarseLat     *float64
	CoarseLon     *float64
	MinLat        float64
	MinLon        float64
	MaxLat        float64
	MaxLon        float64
	UnitCode      string
	Address       string
	SearchCode    string
	SearchAddress string
	InServiceOn   *infrashare.Date
	HeightM       *float64
	Class         string
	Structure     string
	Tubes         *int
	DiameterMM    *float64 `gorm:"column:diameter_mm"`
	LengthM       *float64
	Restricted    bool
	RentVND       *int64 `gorm:"column:rent_vnd"`
	Contact       string
	CapacityUnit  string
	CapacityTotal int
	ReservedUnits int
	ActiveUnits   int
	Version       int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName pins the table.
func (Asset) TableName() string { return "assets" }

// Free is the capacity left: total − reserved − active.
func (a Asset) Free() int { return a.CapacityTotal - a.ReservedUnits - a.ActiveUnits }

// Capacity is an asset's room, as DESIGN §4 names it.
type Capacity struct {
	Unit     string `json:"unit"`
	Total    int    `json:"total"`
	Reserved int    `json:"reserved"`
	Active   int    `json:"active"`
	Free     int    `json:"free"`
}

// AssetView is an asset as one caller may see it.
type AssetView struct {
	ID          int64            `json:"id"`
	Code        string           `json:"code"`
	Kind        string           `json:"kind"`
	Status      string           `json:"status"`
	Owner       auth.OrgRef      `json:"owner"`
	Geometry    json.RawMessage  `json:"geometry"`
	Lat         *float64         `json:"lat,omitempty"`
	Lon         *float64         `json:"lon,omitempty"`
	UnitCode    string           `json:"unit_code"`
	Address     *string          `json:"address"`
	HeightM     *float64         `json:"height_m"`
	Class       string           `json:"class"`
	Structure   string           `json:"structure"`
	Tubes       *int             `json:"tubes"`
	DiameterMM  *float64         `json:"diameter_mm"`
	LengthM     *float64         `json:"length_m"`
	InServiceOn *infrashare.Date `json:"in_service_on"`
	Restricted  bool             `json:"restricted"`
	// Coarse says the position shown is rounded to 0.01°: a restricted
	// site of another organisation.
	Coarse    bool      `json:"coarse,omitempty"`
	RentVND   *int64    `json:"rent_vnd"`
	Contact   string    `json:"contact"`
	Capacity  Capacity  `json:"capacity"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// exactFor reports whether actor sees the asset's exact position and
// address: its owner, the department, admins. Everyone else sees a
// restricted site coarsened.
func exactFor(actor auth.Actor, a Asset) bool {
	return !a.Restricted || actor.SeesEverything() || a.OwnerID == actor.OrgID
}

// viewPoint is the position actor sees of a point asset.
func viewPoint(actor auth.Actor, a Asset) (orb.Point, bool) {
	if a.Lat == nil || a.Lon == nil {
		return orb.Point{}, false
	}
	if exactFor(actor, a) {
		return orb.Point{*a.Lon, *a.Lat}, true
	}
	return orb.Point{*a.CoarseLon, *a.CoarseLat}, true
}

func (s *Service) view(ctx context.Context, actor auth.Actor, a Asset) (AssetView, error) {
	owner, _, err := s.orgs.get(ctx, a.OwnerID)
	if err != nil {
		return AssetView{}, err
	}
	v := AssetView{ID: a.ID, Code: a.Code, Kind: a.Kind, Status: a.Status, Owner: refOf(owner),
		Geometry: json.RawMessage(a.Geometry), UnitCode: a.UnitCode, HeightM: a.HeightM, Class: a.Class,
		Structure: a.Structure, Tubes: a.Tubes, DiameterMM: a.DiameterMM, LengthM: a.LengthM,
		InServiceOn: a.InServiceOn, Restricted: a.Restricted, RentVND: a.RentVND, Contact: a.Contact,
		Capacity: Capacity{Unit: a.CapacityUnit, Total: a.CapacityTotal, Reserved: a.ReservedUnits,
			Active: a.ActiveUnits, Free: a.Free()},
		Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.Lat != nil {
		p, _ := viewPoint(actor, a)
		lat, lon := p[1], p[0]
		v.Lat, v.Lon = &lat, &lon
	}
	if exactFor(actor, a) {
		addr := a.Address
		v.Address = &addr
	} else {
		v.Coarse = true
		v.Geometry = json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%g,%g]}`, *v.Lon, *v.Lat))
	}
	return v, nil
}

// AssetInput is the body of POST /api/v1/assets (and a row of an import).
type AssetInput struct {
	Code        string           `json:"code" validate:"required,max=64"`
	Kind        string           `json:"kind" validate:"required,oneof=tower pole manhole cabinet duct conduit tunnel"`
	Status      string           `json:"status" validate:"omitempty,oneof=planned under_construction in_service decommissioned"`
	Geometry    json.RawMessage  `json:"geometry"`
	Lat         *float64         `json:"lat"`
	Lon         *float64         `json:"lon"`
	UnitCode    string           `json:"unit_code" validate:"max=16"`
	Address     string           `json:"address" validate:"max=500"`
	HeightM     *float64         `json:"height_m" validate:"omitempty,gte=0,lte=500"`
	Class       string           `json:"class" validate:"max=16"`
	Structure   string           `json:"structure" validate:"max=100"`
	Tubes       *int             `json:"tubes" validate:"omitempty,gte=0,lte=1000"`
	DiameterMM  *float64         `json:"diameter_mm" validate:"omitempty,gt=0,lte=5000"`
	InServiceOn *infrashare.Date `json:"in_service_on"`
	Restricted  bool             `json:"restricted"`
	RentVND     *int64           `json:"rent_vnd" validate:"omitempty,gte=0,lte=1000000000000"`
	Contact     string           `json:"contact" validate:"max=300"`
	Capacity    *CapacityInput   `json:"capacity"`
	// geom is the shape an import has parsed already (from CSV or
	// GeoJSON), so that build need not encode and decode it again.
	geom orb.Geometry
}

// CapacityInput sets an asset's capacity unit and total.
type CapacityInput struct {
	Unit  string `json:"unit" validate:"omitempty,oneof=tenant_slot tube cable_slot"`
	Total *int   `json:"total" validate:"omitempty,gte=0,lte=100000"`
}

// rules are the settings and units that asset writes are checked against.
type rules struct {
	area     ServiceArea
	classes  []string
	defaults map[string]int
	today    infrashare.Date
	units    unitLookup
}

func (s *Service) rules(ctx context.Context) (rules, error) {
	r := rules{area: DefaultServiceArea, defaults: map[string]int{}, today: s.settings.Today(), units: s.units}
	if err := s.settings.Get(ctx, "service_area", &r.area); err != nil {
		return r, err
	}
	if err := s.settings.Get(ctx, "asset.classes", &r.classes); err != nil {
		return r, err
	}
	if err := s.settings.Get(ctx, "asset.default_capacity", &r.defaults); err != nil {
		return r, err
	}
	return r, nil
}

// build checks an input and turns it into a row for owner (without id).
// Field errors are collected, named by their JSON names.
func (s *Service) build(ctx context.Context, r rules, ownerID int64, in AssetInput) (Asset, error) {
	in.Code = strings.TrimSpace(in.Code)
	in.Kind = strings.TrimSpace(in.Kind)
	if err := infrashare.Validate(in); err != nil {
		return Asset{}, err
	}
	fields := infrashare.FieldErrors{}
	geomRaw := in.Geometry
	if len(geomRaw) == 0 && in.Lat != nil && in.Lon != nil && pointKinds[in.Kind] {
		geomRaw = json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, *in.Lon, *in.Lat))
	}
	var sh shape
	var err error
	if in.geom != nil {
		sh, err = checkShape(in.geom, in.Kind, r.area)
	} else {
		sh, err = parseShape(geomRaw, in.Kind, r.area)
	}
	if err != nil {
		fields.Add("geometry", err.Error())
	}
	status := in.Status
	if status == "" {
		status = "in_service"
	}
	a := Asset{OwnerID: ownerID, Code: in.Code, Kind: in.Kind, Status: status, Address: strings.TrimSpace(in.Address),
		InServiceOn: in.InServiceOn, HeightM: in.HeightM, Class: strings.TrimSpace(in.Class),
		Structure: strings.TrimSpace(in.Structure), Tubes: in.Tubes, DiameterMM: in.DiameterMM,
		Restricted: in.Restricted, RentVND: in.RentVND, Contact: strings.TrimSpace(in.Contact), Version: 1}
	if in.Restricted && lineKinds[in.Kind] {
		fields.Add("restricted", "applies to sites (point assets), not to line assets")
	}
	if a.Class != "" {
		if !mastKinds[a.Kind] {
			fields.Add("class", "applies to towers and poles")
		} else if !containsString(r.classes, a.Class) {
			fields.Add("class", "must be one of: "+strings.Join(r.classes, ", "))
		}
	}
	if a.HeightM != nil && !mastKinds[a.Kind] {
		fields.Add("height_m", "applies to towers and poles")
	}
	if (a.Tubes != nil || a.DiameterMM != nil) && !ductKinds[a.Kind] {
		if a.Tubes != nil {
			fields.Add("tubes", "applies to ducts and conduits")
		} else {
			fields.Add("diameter_mm", "applies to ducts and conduits")
		}
	}
	// Capacity: the unit follows the kind unless given; the total is
	// authoritative, defaulting to the tubes of a duct.
	a.CapacityUnit = defaultUnitFor[a.Kind]
	if in.Capacity != nil && in.Capacity.Unit != "" {
		a.CapacityUnit = in.Capacity.Unit
	}
	switch {
	case in.Capacity != nil && in.Capacity.Total != nil:
		a.CapacityTotal = *in.Capacity.Total
	case ductKinds[a.Kind] && a.Tubes != nil:
		a.CapacityTotal = *a.Tubes
	case ductKinds[a.Kind]:
		a.CapacityTotal = 1
	default:
		a.CapacityTotal = r.defaults[a.Kind]
	}
	if err := fields.Err(); err != nil {
		return Asset{}, err
	}
	a.SearchCode, a.SearchAddress = infrashare.Fold(a.Code), infrashare.Fold(a.Address)
	a.Geometry = sh.geojson
	a.MinLat, a.MinLon, a.MaxLat, a.MaxLon = sh.bound.Min[1], sh.bound.Min[0], sh.bound.Max[1], sh.bound.Max[0]
	a.LengthM = sh.lengthM
	if sh.point != nil {
		lat, lon := sh.point[1], sh.point[0]
		clat, clon := coarse(lat), coarse(lon)
		a.Lat, a.Lon, a.CoarseLat, a.CoarseLon = &lat, &lon, &clat, &clon
	}
	unit, err := resolveUnit(ctx, r.units, sh.mid, strings.TrimSpace(in.UnitCode), r.today)
	if err != nil {
		return Asset{}, err
	}
	a.UnitCode = unit
	return a, nil
}

// resolveUnit is the unit of a record made today at p: the most specific
// unit whose loaded boundary holds p, else the given code (which must be a
// unit valid today). A given code that contradicts the boundaries is an
// error rather than silently replaced.
func resolveUnit(ctx context.Context, units unitLookup, p orb.Point, given string, day infrashare.Date) (string, error) {
	found, ok, err := units.Locate(ctx, p[0], p[1], day)
	if err != nil {
		return "", err
	}
	if ok {
		if given == "" || given == found {
			return found, nil
		}
		ancestors, err := units.Ancestors(ctx, found, day)
		if err != nil {
			return "", err
		}
		if containsString(ancestors, given) {
			return found, nil
		}
		return "", infrashare.Invalid("unit_code", fmt.Sprintf("the position lies in unit %s, not %s", found, given))
	}
	if given == "" {
		return "", nil
	}
	valid, err := units.ValidCode(ctx, given, day)
	if err != nil {
		return "", err
	}
	if !valid {
		return "", infrashare.Invalid("unit_code", "no unit with this code is valid today")
	}
	return given, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// requireOperator is the rule for writes to the register: an operator
// writes only its own organisation's assets.
func requireOperator(actor auth.Actor) error {
	if actor.Has(auth.RoleOperator) && actor.OrgKind == auth.KindOperator {
		return nil
	}
	return infrashare.Forbidden("only operators register assets, each for its own organisation")
}

// Create registers an asset of the actor's organisation.
func (s *Service) Create(ctx context.Context, actor auth.Actor, in AssetInput) (AssetView, error) {
	if err := requireOperator(actor); err != nil {
		return AssetView{}, err
	}
	r, err := s.rules(ctx)
	if err != nil {
		return AssetView{}, err
	}
	a, err := s.build(ctx, r, actor.OrgID, in)
	if err != nil {
		return AssetView{}, err
	}
	var out AssetView
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.Conn(ctx).Create(&a).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return &infrashare.Error{Code: infrashare.ECONFLICT, Message: "your organisation has an asset with this code already",
					Fields: map[string]string{"code": "already used by another of your assets"}}
			}
			return err
		}
		v, err := s.view(ctx, actor, a)
		if err != nil {
			return err
		}
		out = v
		return s.audit.Record(ctx, actor, auth.Change{Action: "asset.create", ObjectType: "asset",
			ObjectID: strconv.FormatInt(a.ID, 10), After: auditAsset(a)})
	})
	return out, err
}

// auditAsset is what the audit log keeps of an asset: every field, exact.
func auditAsset(a Asset) map[string]any {
	m := map[string]any{"id": a.ID, "owner_id": a.OwnerID, "code": a.Code, "kind": a.Kind, "status": a.Status,
		"geometry": json.RawMessage(a.Geometry), "unit_code": a.UnitCode, "address": a.Address,
		"in_service_on": a.InServiceOn, "height_m": a.HeightM, "class": a.Class, "structure": a.Structure,
		"tubes": a.Tubes, "diameter_mm": a.DiameterMM, "length_m": a.LengthM, "restricted": a.Restricted,
		"rent_vnd": a.RentVND, "contact": a.Contact, "capacity_unit": a.CapacityUnit,
		"capacity_total": a.CapacityTotal, "version": a.Version}
	return m
}

// load reads an asset by id within ctx's transaction, if any.
func (s *Service) load(ctx context.Context, id int64) (Asset, error) {
	var a Asset
	err := s.db.Conn(ctx).Where("id = ?", id).First(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Asset{}, infrashare.NotFound("asset")
	}
	return a, err
}

// Get returns one asset as actor may see it. Every signed-in user sees the
// register's public face.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (AssetView, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return AssetView{}, err
	}
	return s.view(ctx, actor, a)
}

// AssetPatch is the body of PATCH /api/v1/assets/{id}: any subset of the
// fields, and the version the client last saw.
type AssetPatch struct {
	Version     *int             `json:"version" validate:"required"`
	Status      *string          `json:"status" validate:"omitempty,oneof=planned under_construction in_service decommissioned"`
	Geometry    json.RawMessage  `json:"geometry"`
	UnitCode    *string          `json:"unit_code" validate:"omitempty,max=16"`
	Address     *string          `json:"address" validate:"omitempty,max=500"`
	HeightM     *float64         `json:"height_m" validate:"omitempty,gte=0,lte=500"`
	Class       *string          `json:"class" validate:"omitempty,max=16"`
	Structure   *string          `json:"structure" validate:"omitempty,max=100"`
	Tubes       *int             `json:"tubes" validate:"omitempty,gte=0,lte=1000"`
	DiameterMM  *float64         `json:"diameter_mm" validate:"omitempty,gt=0,lte=5000"`
	InServiceOn *infrashare.Date `json:"in_service_on"`
	Restricted  *bool            `json:"restricted"`
	RentVND     *int64           `json:"rent_vnd" validate:"omitempty,gte=0,lte=1000000000000"`
	Contact     *string          `json:"contact" validate:"omitempty,max=300"`
	Capacity    *CapacityInput   `json:"capacity"`
}

// Update changes an asset of the actor's organisation. A stale version is a
// conflict; so is a total below what is allocated. The version counts edits
// of these fields (reservations do not move it).
func (s *Service) Update(ctx context.Context, actor auth.Actor, id int64, p AssetPatch) (AssetView, error) {
	if err := requireOperator(actor); err != nil {
		return AssetView{}, err
	}
	if err := infrashare.Validate(p); err != nil {
		return AssetView{}, err
	}
	r, err := s.rules(ctx)
	if err != nil {
		return AssetView{}, err
	}
	var out AssetView
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		if cur.OwnerID != actor.OrgID {
			return infrashare.Forbidden("only the owner changes an asset")
		}
		if *p.Version != cur.Version {
			return &infrashare.Error{Code: infrashare.ECONFLICT, Message: fmt.Sprintf("the asset has changed since version %d (now %d); reload and try again", *p.Version, cur.Version),
				Fields: map[string]string{"version": "stale"}}
		}
		in := inputOf(cur)
		keepUnit := p.UnitCode == nil && len(p.Geometry) == 0
		if keepUnit {
			in.UnitCode = "" // not re-checked: the unit may have been retired since
		}
		applyPatch(&in, p)
		next, err := s.build(ctx, r, cur.OwnerID, in)
		if err != nil {
			return err
		}
		if keepUnit {
			next.UnitCode = cur.UnitCode // the record keeps the unit it was made under
		}
		next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
		next.Version = cur.Version + 1
		next.UpdatedAt = s.clock.Now()
		if next.CapacityTotal < cur.ReservedUnits+cur.ActiveUnits {
			return &infrashare.Error{Code: infrashare.ECONFLICT,
				Message: fmt.Sprintf("the total cannot drop below the %d unit(s) reserved or in use", cur.ReservedUnits+cur.ActiveUnits),
				Fields:  map[string]string{"capacity.total": "below what is allocated"}}
		}
		// The write is conditional on the version and on the counters, so
		// that a concurrent reservation or edit can never be overridden.
		res := s.db.Conn(ctx).Model(&Asset{}).
			Where("id = ? AND version = ? AND reserved_units + active_units <= ?", id, cur.Version, next.CapacityTotal).
			Updates(assetColumns(next))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return infrashare.Conflict("the asset changed while saving; reload and try again")
		}
		saved, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		if out, err = s.view(ctx, actor, saved); err != nil {
			return err
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "asset.update", ObjectType: "asset",
			ObjectID: strconv.FormatInt(id, 10), Before: auditAsset(cur), After: auditAsset(saved)})
	})
	return out, err
}

// assetColumns are the editable columns of a, for a conditional UPDATE.
func assetColumns(a Asset) map[string]any {
	return map[string]any{"status": a.Status, "geometry": a.Geometry, "lat": a.Lat, "lon": a.Lon,
		"coarse_lat": a.CoarseLat, "coarse_lon": a.CoarseLon, "min_lat": a.MinLat, "min_lon": a.MinLon,
		"max_lat": a.MaxLat, "max_lon": a.MaxLon, "unit_code": a.UnitCode, "address": a.Address,
		"search_address": a.SearchAddress, "in_service_on": a.InServiceOn, "height_m": a.HeightM, "class": a.Class, "structure": a.Structure,
		"tubes": a.Tubes, "diameter_mm": a.DiameterMM, "length_m": a.LengthM, "restricted": a.Restricted,
		"rent_vnd": a.RentVND, "contact": a.Contact, "capacity_unit": a.CapacityUnit,
		"capacity_total": a.CapacityTotal, "version": a.Version, "updated_at": a.UpdatedAt}
}

// inputOf turns a row back into an input, for patching.
func inputOf(a Asset) AssetInput {
	total := a.CapacityTotal
	return AssetInput{Code: a.Code, Kind: a.Kind, Status: a.Status, Geometry: json.RawMessage(a.Geometry),
		UnitCode: a.UnitCode, Address: a.Address, HeightM: a.HeightM, Class: a.Class, Structure: a.Structure,
		Tubes: a.Tubes, DiameterMM: a.DiameterMM, InServiceOn: a.InServiceOn, Restricted: a.Restricted,
		RentVND: a.RentVND, Contact: a.Contact, Capacity: &CapacityInput{Unit: a.CapacityUnit, Total: &total}}
}

func applyPatch(in *AssetInput, p AssetPatch) {
	if p.Status != nil {
		in.Status = *p.Status
	}
	if len(p.Geometry) > 0 {
		in.Geometry = p.Geometry
	}
	if p.UnitCode != nil {
		in.UnitCode = *p.UnitCode
	}
	if p.Address != nil {
		in.Address = *p.Address
	}
	if p.HeightM != nil {
		in.HeightM = p.HeightM
	}
	if p.Class != nil {
		in.Class = *p.Class
	}
	if p.Structure != nil {
		in.Structure = *p.Structure
	}
	if p.Tubes != nil {
		in.Tubes = p.Tubes
	}
	if p.DiameterMM != nil {
		in.DiameterMM = p.DiameterMM
	}
	if p.InServiceOn != nil {
		in.InServiceOn = p.InServiceOn
	}
	if p.Restricted != nil {
		in.Restricted = *p.Restricted
	}
	if p.RentVND != nil {
		in.RentVND = p.RentVND
	}
	if p.Contact != nil {
		in.Contact = *p.Contact
	}
	if p.Capacity != nil {
		if p.Capacity.Unit != "" {
			in.Capacity.Unit = p.Capacity.Unit
		}
		if p.Capacity.Total != nil {
			in.Capacity.Total = p.Capacity.Total
		}
	}
}

// Delete removes an asset of the actor's organisation while nothing is
// reserved or active on it; decommissioning is the normal path.
func (s *Service) Delete(ctx context.Context, actor auth.Actor, id int64) error {
	if err := requireOperator(actor); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		if cur.OwnerID != actor.OrgID {
			return infrashare.Forbidden("only the owner deletes an asset")
		}
		tx := s.db.Conn(ctx)
		if err := tx.Where("asset_id = ? AND status = ?", id, "released").Delete(&Allocation{}).Error; err != nil {
			return err
		}
		res := tx.Where("id = ? AND reserved_units = 0 AND active_units = 0", id).Delete(&Asset{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return infrashare.Conflict("units are reserved or in use on this asset; release them, or set its status to decommissioned")
		}
		return s.audit.Record(ctx, actor, auth.Change{Action: "asset.delete", ObjectType: "asset",
			ObjectID: strconv.FormatInt(id, 10), Before: auditAsset(cur)})
	})
}

// ResolveUnit is the unit of a record made on day at (lat, lon): from the
// loaded boundaries, else the given code (which must be valid that day).
func (s *Service) ResolveUnit(ctx context.Context, lat, lon float64, given string, day infrashare.Date) (string, error) {
	return resolveUnit(ctx, s.units, orb.Point{lon, lat}, strings.TrimSpace(given), day)
}

// ServiceArea is the box every position must lie in.
func (s *Service) ServiceArea(ctx context.Context) (ServiceArea, error) {
	r, err := s.rules(ctx)
	return r.area, err
}

// Classes are the tower and pole classes of the settings.
func (s *Service) Classes(ctx context.Context) ([]string, error) {
	r, err := s.rules(ctx)
	return r.classes, err
}
