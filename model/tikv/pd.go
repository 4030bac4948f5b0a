package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/sim"
)

// regionOpSteps is how many scheduling points a split or merge spends in
// its transitional state (Splitting/Merging) before it takes effect.
const regionOpSteps = 3

// PDLoop is the placement driver actor: up to MaxRegionOps times, after a
// drawn pause, it splits a region at a key inside it, merges two adjacent
// regions, or changes a region's membership (conf_ver++). Splits and
// merges pass through a transitional state for a few steps, as raft's
// admin commands do.
func (c *Cluster) PDLoop(a *sim.Actor) {
	for i := 0; i < c.cfg.MaxRegionOps && c.interference; i++ {
		a.Sleep(sim.Micros(1+c.s.Intn(2*int(c.cfg.RegionOpInterval/sim.Microsecond)+1)) * sim.Microsecond)
		if !c.interference {
			return
		}
		switch c.s.Intn(3) {
		case 0:
			c.split(a)
		case 1:
			c.merge(a)
		default:
			regions := c.Regions.All()
			r := regions[c.s.Intn(len(regions))]
			r.Epoch.ConfVer++
			c.s.Record(sim.ClassAction, "conf-change", r.String(), "ok")
		}
	}
}

func (c *Cluster) split(a *sim.Actor) {
	regions := c.Regions.All()
	r := regions[c.s.Intn(len(regions))]
	lo, hi := keyIndex(r.Start, 0), keyIndex(r.End, c.cfg.KeySpace)
	if hi-lo < 2 {
		return
	}
	at := KeyName(lo + 1 + c.s.Intn(hi-lo-1))
	r.State = RegionSplitting
	for i := 0; i < regionOpSteps; i++ {
		a.Yield()
	}
	r.State = RegionNormal
	n := c.Regions.Split(r, at)
	c.s.Record(sim.ClassAction, "split", fmt.Sprintf("at %s: %s and %s", at, r, n), "ok")
}

func (c *Cluster) merge(a *sim.Actor) {
	regions := c.Regions.All()
	if len(regions) < 2 {
		return
	}
	i := c.s.Intn(len(regions) - 1)
	source, target := regions[i+1], regions[i]
	source.State, target.State = RegionMerging, RegionMerging
	for j := 0; j < regionOpSteps; j++ {
		a.Yield()
	}
	source.State, target.State = RegionNormal, RegionNormal
	c.Regions.Merge(source, target)
	c.s.Record(sim.ClassAction, "merge", fmt.Sprintf("region %d into %s", source.ID, target), "ok")
}

// keyIndex returns the index of a KeyName key, or def for "" (unbounded).
func keyIndex(key string, def int) int {
	if key == "" {
		return def
	}
	var i int
	if _, err := fmt.Sscanf(key, "k%d", &i); err != nil {
		panic(fmt.Sprintf("model: bad key %q", key))
	}
	return i
}
