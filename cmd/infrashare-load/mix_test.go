package main

import (
	"math"
	"testing"
)

// countPicks feeds pick n evenly spaced numbers of [0, 1), which is what a
// uniform source gives in the long run, and counts the operations.
func countPicks(m mix, n int) map[opKind]int {
	got := map[opKind]int{}
	for k := 0; k < n; k++ {
		got[m.pick((float64(k)+0.5)/float64(n))]++
	}
	return got
}

func TestMixSendsTheReadShareAndTheWeightsWithin(t *testing.T) {
	for _, reads := range []float64{0.9, 0.5, 1, 0} {
		m, err := newMix(reads, "")
		if err != nil {
			t.Fatal(err)
		}
		const n = 100000
		got := countPicks(m, n)
		readCount := 0
		for o := opKind(0); o < numOps; o++ {
			want := reads * readWeights[o]
			if !o.isRead() {
				want = (1 - reads) * writeWeights[o]
			} else {
				readCount += got[o]
			}
			if share := float64(got[o]) / n; math.Abs(share-want) > 1.0/n*2 {
				t.Errorf("reads %v: %s is %.5f of the operations, want %.5f", reads, o, share, want)
			}
			if m.has(o) != (want > 0) {
				t.Errorf("reads %v: has(%s) = %v", reads, o, m.has(o))
			}
		}
		if share := float64(readCount) / n; math.Abs(share-reads) > 1e-3 {
			t.Errorf("reads %v: reads are %.4f of the operations", reads, share)
		}
		if m.writes() != (reads < 1) {
			t.Errorf("reads %v: writes() = %v", reads, m.writes())
		}
	}
}

func TestDefaultMixIsNinetyPercentReads(t *testing.T) {
	m, err := newMix(0.9, "")
	if err != nil {
		t.Fatal(err)
	}
	reads := 0.0
	for _, o := range m.ops {
		if o.isRead() {
			reads += m.share(o)
		}
	}
	if math.Abs(reads-0.9) > 1e-9 {
		t.Fatalf("reads are %v of the default mix", reads)
	}
	if math.Abs(m.share(opNearby)-0.36) > 1e-9 || math.Abs(m.share(opPatch)-0.05) > 1e-9 {
		t.Errorf("nearby %v, patch %v: want 0.36 and 0.05", m.share(opNearby), m.share(opPatch))
	}
}

func TestMixOnlyAndBadShares(t *testing.T) {
	m, err := newMix(0.9, "nearby")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []float64{0, 0.3, 0.999999} {
		if o := m.pick(u); o != opNearby {
			t.Errorf("-only nearby picked %s", o)
		}
	}
	if _, err := newMix(0.9, "delete-everything"); err == nil {
		t.Error("an unknown -only was accepted")
	}
	for _, bad := range []float64{-0.1, 1.5} {
		if _, err := newMix(bad, ""); err == nil {
			t.Errorf("-reads %v was accepted", bad)
		}
	}
}
