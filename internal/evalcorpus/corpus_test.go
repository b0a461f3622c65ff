package evalcorpus

import (
	"reflect"
	"testing"
)

// The suite is deterministic: the same seed gives the same cases.
func TestAttacksDeterministic(t *testing.T) {
	a, b := Attacks(DefaultSeed, DefaultPerCell), Attacks(DefaultSeed, DefaultPerCell)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generations with one seed differ")
	}
	if c := Attacks(DefaultSeed+1, DefaultPerCell); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gives the same sample")
	}
	cells := map[string]bool{}
	for _, c := range a {
		cells[c.Category+"/"+c.Placement] = true
	}
	if len(cells) != len(Categories)*len(Placements) {
		t.Errorf("%d category×placement cells, want %d", len(cells), len(Categories)*len(Placements))
	}
	t.Logf("%d attacks (of %d payloads)", len(a), PayloadCount())
}

// Every case of both corpora builds a request that an HTTP client accepts.
func TestCasesBuildRequests(t *testing.T) {
	cases, err := Suite(DefaultSeed, DefaultPerCell)
	if err != nil {
		t.Fatal(err)
	}
	benign := 0
	for _, c := range cases {
		p, ok := PlacementByName(c.Placement)
		if c.Placement == "upload" {
			p, ok = upload, true
		}
		if !ok {
			t.Fatalf("%s: unknown placement", c.ID)
		}
		r, err := p.Request("http://127.0.0.1:1/", c.Value)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		for name, vs := range r.Header {
			for _, v := range vs {
				if !p.carries(v) {
					t.Fatalf("%s: header %s holds control characters", c.ID, name)
				}
			}
		}
		if !c.Attack {
			benign++
		}
	}
	if benign < 3000 {
		t.Errorf("only %d benign cases", benign)
	}
	t.Logf("%d cases, %d benign", len(cases), benign)
}
