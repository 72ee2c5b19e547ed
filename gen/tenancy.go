package gen

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"infrashare"
	"infrashare/permits"
)

// Allocation purposes and statuses, by index.
const (
	pOwner = iota
	pExisting
)

var (
	purposes      = []string{"owner", "existing"}
	allocStatuses = []string{"active", "released"}
)

// alloc is one planned allocation: the owner's own use or an imported
// existing tenancy, active or released. Active ones add to their asset's
// active_units (skel.active); none is reserved (reservations come only from
// co-location requests, which the services make).
type alloc struct {
	asset    int32
	tenant   int16 // index into generator.orgs
	purpose  uint8
	released bool
	units    uint16
	since    int32
	until    int32
}

func (g *generator) allocID(k int) int64 { return g.allocBase + int64(k) }

// tenantsOf are who rents room on an asset of a kind: mobile operators on
// masts, cable operators in ducts, manholes and cabinets.
var tenantsOf = [][]uint8{
	kTower:   {oViettel, oVNPT, oMobifone, oVNMobile},
	kPole:    {oViettel, oVNPT, oMobifone, oFPT, oSCTV},
	kManhole: {oFPT, oSCTV, oVNPT, oViettel},
	kCabinet: {oFPT, oSCTV, oVNPT, oViettel},
	kDuct:    {oFPT, oSCTV, oVNPT, oViettel, oMobifone},
}

// planAllocations draws each in-service asset's own use, existing
// tenancies and ended tenancies.
func (g *generator) planAllocations() {
	t := time.Now()
	asOf := dayNum(g.opts.AsOf)
	for i := range g.skels {
		s := &g.skels[i]
		if s.status != sInService {
			continue
		}
		rng := g.rng(streamAllocations, uint64(i))
		since := func() int32 { return s.inService + rng.Int32N(max(asOf-s.inService, 1)) }
		add := func(tenant uint8, purpose uint8, units int, released bool) {
			if units < 1 || (!released && units > s.free()) {
				return
			}
			a := alloc{asset: int32(i), tenant: int16(g.orgIndex[ownerCodes[tenant]]), purpose: purpose,
				units: uint16(units), since: since(), released: released}
			if released {
				a.until = a.since + rng.Int32N(max(asOf-a.since, 1))
			} else {
				s.active += uint16(units)
			}
			g.allocs = append(g.allocs, a)
		}
		var own float64
		ownUnits := 1
		switch s.kind {
		case kTower:
			own = 0.7
		case kPole:
			own = 0.4
		case kManhole, kCabinet:
			own, ownUnits = 0.6, 1+rng.IntN(2)
		case kDuct:
			own, ownUnits = 0.85, 1+rng.IntN(max(int(s.capTotal)/2, 1))
		}
		if rng.Float64() < own {
			add(s.owner, pOwner, ownUnits, false)
		}
		if rng.Float64() < 0.3 {
			if tenant := pick(rng, tenantsOf[s.kind]); tenant != s.owner {
				add(tenant, pExisting, 1, false)
			}
		}
		if rng.Float64() < 0.05 {
			if tenant := pick(rng, tenantsOf[s.kind]); tenant != s.owner {
				add(tenant, pExisting, 1, true)
			}
		}
	}
	g.progress.logf("gen: planned %d allocations in %s", len(g.allocs), time.Since(t).Round(time.Millisecond))
}

// contractRef is the contract reference of an existing tenancy.
func (g *generator) contractRef(k int) string {
	a := &g.allocs[k]
	if a.purpose == pOwner {
		return ""
	}
	return fmt.Sprintf("HĐ-%d/%s-%07d", dateOfNum(a.since).Year, g.orgs[a.tenant].code, k+1)
}

var allocColumns = []string{"id", "asset_id", "tenant_org_id", "purpose", "units", "status", "since", "until",
	"contract_ref", "rent_vnd", "colocation_request_id", "note", "created_at", "updated_at"}

func (g *generator) allocRow(k int, row []any) {
	a := &g.allocs[k]
	s := &g.skels[a.asset]
	status, note := allocStatuses[0], ""
	var until, rent any
	if a.released {
		status, until = allocStatuses[1], dateOfNum(a.until)
	}
	if a.purpose == pOwner {
		note = "Sử dụng riêng"
	} else if s.rent != 0 {
		rent = s.rent * int64(a.units)
	}
	created := dateOfNum(a.since).Time().Add(3 * time.Hour)
	updated := created
	if a.released {
		updated = dateOfNum(a.until).Time().Add(3 * time.Hour)
	}
	vals := [...]any{g.allocID(k), g.assetID(int(a.asset)), g.orgs[a.tenant].id, purposes[a.purpose], int(a.units), status,
		dateOfNum(a.since), until, g.contractRef(k), rent, nil, note, created, updated}
	copy(row, vals[:])
}

// BTS classifications (permits.Class*).
const (
	classShared       = "shared"
	classOwnExisting  = "own_existing"
	classNewStructure = "new_structure"
)

// btsRow is one planned BTS record: the structure it is mounted on, and
// its classification by permits.LogDeployment's rules.
type btsRow struct {
	operator int16 // index into generator.orgs
	asset    int32
	onAir    int32
	class    string
	alloc    int32 // the tenancy a shared record rests on; -1 otherwise
	techs    string
}

// btsOperators log the stations, with their shares.
var btsOperators = []struct {
	owner uint8
	share float64
}{{oViettel, 0.35}, {oVNPT, 0.30}, {oMobifone, 0.25}, {oVNMobile, 0.10}}

func (g *generator) sameGroup(a, b int) bool {
	return a == b || (g.orgs[a].group != "" && g.orgs[a].group == g.orgs[b].group)
}

// planBTS draws the BTS log: stations of the mobile operators on Can Tho's
// in-service masts, on air between 2021-01-01 and the as-of day, with a
// sharing share that grows over the years. Each record's class is what
// LogDeployment would decide for it: new_structure when its mast came into
// service within the window before; own_existing on a pre-existing mast
// of the operator's group; shared on another's pre-existing mast, where the
// operator holds an active tenancy (one is planned when it has none and
// the mast has room).
func (g *generator) planBTS() {
	if g.opts.BTS == 0 {
		return
	}
	t := time.Now()
	var masts []int32
	for i := range g.skels {
		s := &g.skels[i]
		if int(s.city) == canTho && (s.kind == kTower || s.kind == kPole) && s.status == sInService && s.unit != 0 {
			masts = append(masts, int32(i))
		}
	}
	sort.SliceStable(masts, func(a, b int) bool { return g.skels[masts[a]].inService < g.skels[masts[b]].inService })
	ownerOrg := func(m int32) int { return g.orgIndex[ownerCodes[g.skels[m].owner]] }
	own := map[int][]int32{}
	for _, op := range btsOperators {
		oi := g.orgIndex[ownerCodes[op.owner]]
		for _, m := range masts {
			if g.sameGroup(oi, ownerOrg(m)) {
				own[oi] = append(own[oi], m)
			}
		}
	}
	tenancy := map[[2]int32]int32{} // (asset, tenant org) → allocation
	for k, a := range g.allocs {
		if !a.released && a.purpose == pExisting {
			key := [2]int32{a.asset, int32(a.tenant)}
			if _, ok := tenancy[key]; !ok {
				tenancy[key] = int32(k)
			}
		}
	}
	// before is the number of masts of list in service before day.
	before := func(list []int32, day int32) int {
		return sort.Search(len(list), func(k int) bool { return g.skels[list[k]].inService >= day })
	}
	rng := g.rng(streamBTS, 0)
	first := dayNum(infrashare.MustDate("2021-01-01"))
	last := min(dayNum(g.opts.AsOf)-1, dayNum(infrashare.MustDate("2026-12-31")))
	window := int32(g.window)
	for j := 0; j < g.opts.BTS; j++ {
		onAir := first + rng.Int32N(last-first+1)
		year := dateOfNum(onAir).Year
		x := rng.Float64()
		op := g.orgIndex[ownerCodes[btsOperators[len(btsOperators)-1].owner]]
		for _, o := range btsOperators {
			if x < o.share {
				op = g.orgIndex[ownerCodes[o.owner]]
				break
			}
			x -= o.share
		}
		shared := min(0.22+0.05*float64(year-2021), 0.6)
		want := []string{classNewStructure, classOwnExisting, classShared}
		switch y := rng.Float64(); {
		case y < shared:
			want = []string{classShared, classOwnExisting, classNewStructure}
		case y < shared+0.2:
			want = []string{classOwnExisting, classShared, classNewStructure}
		}
		rec := btsRow{operator: int16(op), onAir: onAir, alloc: -1, techs: technologies(rng, year)}
		placed := false
		for _, class := range want {
			switch class {
			case classNewStructure:
				lo, hi := before(masts, onAir-window), before(masts, onAir+1)
				if hi > lo {
					rec.asset, rec.class, placed = masts[lo+rng.IntN(hi-lo)], class, true
				}
			case classOwnExisting:
				if n := before(own[op], onAir-window); n > 0 {
					rec.asset, rec.class, placed = own[op][rng.IntN(n)], class, true
				}
			case classShared:
				n := before(masts, onAir-window)
				for try := 0; try < 30 && n > 0 && !placed; try++ {
					m := masts[rng.IntN(n)]
					if g.sameGroup(op, ownerOrg(m)) {
						continue
					}
					key := [2]int32{m, int32(op)}
					k, ok := tenancy[key]
					if !ok {
						s := &g.skels[m]
						if s.free() < 1 {
							continue
						}
						since := max(s.inService+1, onAir-30-rng.Int32N(300))
						g.allocs = append(g.allocs, alloc{asset: m, tenant: int16(op), purpose: pExisting, units: 1, since: since})
						s.active++
						k = int32(len(g.allocs) - 1)
						tenancy[key] = k
					}
					rec.asset, rec.class, rec.alloc, placed = m, class, k, true
				}
			}
			if placed {
				break
			}
		}
		if !placed {
			continue // no mast fits (a tiny data set): the record is left out
		}
		g.bts = append(g.bts, rec)
	}
	g.progress.logf("gen: planned %d BTS records on %d Can Tho masts in %s", len(g.bts), len(masts), time.Since(t).Round(time.Millisecond))
}

// technologies of a station going on air in year: 5G from 2023.
func technologies(rng interface{ Float64() float64 }, year int) string {
	x := rng.Float64()
	if year >= 2023 && x < 0.15*float64(year-2022) {
		if x < 0.05*float64(year-2022) {
			return "5G"
		}
		return "4G,5G"
	}
	switch {
	case x < 0.75:
		return "4G"
	case x < 0.9:
		return "3G,4G"
	}
	return "2G,3G,4G"
}

var btsColumns = []string{"operator_org_id", "station_code", "technologies", "lat", "lon", "unit_code", "on_air_on",
	"mounted_on_asset_id", "permit_id", "colocation_request_id", "classification", "evidence", "reclassified",
	"created_at", "updated_at"}

func (g *generator) btsRow(j int, row []any) {
	b := &g.bts[j]
	s := &g.skels[b.asset]
	owner := g.orgs[g.orgIndex[ownerCodes[s.owner]]]
	in := dateOfNum(s.inService)
	ev := permits.Evidence{WindowDays: g.window, Asset: &permits.EvidenceAsset{ID: g.assetID(int(b.asset)), Code: g.code(int(b.asset)),
		Owner: owner.code, OwnerGroup: owner.group, InServiceOn: &in}}
	switch b.class {
	case classNewStructure:
		ev.Rule = fmt.Sprintf("the structure came into service within %d days before going on air", g.window)
	case classOwnExisting:
		ev.Rule = "a pre-existing structure of the operator or its group"
	case classShared:
		ev.Rule = "a pre-existing structure of another organisation, used under an allocation"
		ev.AllocationID = g.allocID(int(b.alloc))
		ev.Allocation = purposes[pExisting] + " " + g.contractRef(int(b.alloc))
	}
	evJSON, _ := json.Marshal(ev)
	code := g.orgs[b.operator].code + "-BTS-" + fmt.Sprintf("%07d", j+1)
	if g.run > 1 {
		code += "-R" + strconv.Itoa(g.run)
	}
	logged := dateOfNum(b.onAir).Time().Add(3 * time.Hour)
	vals := [...]any{g.orgs[b.operator].id, code, b.techs, s.lat, s.lon, g.unitCodes[s.unit], dateOfNum(b.onAir),
		g.assetID(int(b.asset)), nil, nil, b.class, string(evJSON), false, logged, logged}
	copy(row, vals[:])
}
