package main

import (
	"fmt"
	"sort"
	"strings"
)

// opKind is one kind of operation the generator sends. Each is one
// endpoint class in the report, except opColocation, which files a
// request or withdraws one filed earlier (reported as "file" and
// "withdraw").
type opKind int

const (
	opNearby opKind = iota
	opList
	opGet
	opGeoJSON
	opReport
	opPatch
	opComment
	opColocation
	numOps
)

var opNames = [numOps]string{"nearby", "list", "get", "geojson", "report", "patch", "comment", "colocation"}

func (o opKind) String() string { return opNames[o] }

func (o opKind) isRead() bool { return o <= opReport }

// readWeights and writeWeights split the read and the write share among
// the operations. Reads lean on the searches an operator planning a site
// makes; writes are mostly asset edits, with co-location traffic beside.
var (
	readWeights  = map[opKind]float64{opNearby: 0.40, opList: 0.20, opGet: 0.20, opGeoJSON: 0.10, opReport: 0.10}
	writeWeights = map[opKind]float64{opPatch: 0.50, opComment: 0.25, opColocation: 0.25}
)

// mix picks operations in fixed proportions from a uniform number in
// [0, 1): the cumulative shares partition the interval.
type mix struct {
	ops []opKind
	cum []float64 // cum[i] is the upper end of ops[i]'s part
}

// newMix builds the mix for a read share in [0, 1]. only, when set, names
// the one operation to send (e.g. "nearby" to compare with bare SQL).
func newMix(readShare float64, only string) (mix, error) {
	if only != "" {
		for o := opKind(0); o < numOps; o++ {
			if o.String() == only {
				return mix{ops: []opKind{o}, cum: []float64{1}}, nil
			}
		}
		return mix{}, fmt.Errorf("-only %q: must be one of %s", only, strings.Join(opNames[:], ", "))
	}
	if readShare < 0 || readShare > 1 {
		return mix{}, fmt.Errorf("-reads %v: must be between 0 and 1", readShare)
	}
	shares := map[opKind]float64{}
	for o, w := range readWeights {
		shares[o] += readShare * w
	}
	for o, w := range writeWeights {
		shares[o] += (1 - readShare) * w
	}
	var m mix
	keys := make([]opKind, 0, len(shares))
	for o, s := range shares {
		if s > 0 {
			keys = append(keys, o)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	total := 0.0
	for _, o := range keys {
		total += shares[o]
		m.ops = append(m.ops, o)
		m.cum = append(m.cum, total)
	}
	m.cum[len(m.cum)-1] = 1 // rounding must not leave a gap at the top
	return m, nil
}

// pick maps u in [0, 1) to an operation.
func (m mix) pick(u float64) opKind {
	i := sort.SearchFloat64s(m.cum, u)
	// SearchFloat64s finds the first cum >= u; a u exactly on a boundary
	// belongs to the next part, as the parts are half-open.
	for i < len(m.cum)-1 && m.cum[i] == u {
		i++
	}
	if i >= len(m.ops) {
		i = len(m.ops) - 1
	}
	return m.ops[i]
}

// share is the fraction of operations that are o.
func (m mix) share(o opKind) float64 {
	lo := 0.0
	for i, op := range m.ops {
		if op == o {
			return m.cum[i] - lo
		}
		lo = m.cum[i]
	}
	return 0
}

// has says whether the mix ever sends o.
func (m mix) has(o opKind) bool { return m.share(o) > 0 }

// writes says whether the mix sends any write.
func (m mix) writes() bool {
	for _, o := range m.ops {
		if !o.isRead() {
			return true
		}
	}
	return false
}
