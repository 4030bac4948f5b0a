package fidelity

import (
	"fmt"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// OpKind is the kind of one operation of a sequence.
type OpKind int

// The operations a sequence is made of. Both systems run each the same way
// (see RunPebble and RunModel for what each one calls).
const (
	// OpPut writes Key with a value derived from the op's index.
	OpPut OpKind = iota
	// OpDelete writes a tombstone for Key.
	OpDelete
	// OpFlush flushes the memtable.
	OpFlush
	// OpCompact compacts the key range [Start, End] (both inclusive).
	OpCompact
	// OpList lists the live SST files (Pebble's DB.SSTables).
	OpList
	// OpOpen opens, by path, a file of the listing made by op Ref: the
	// Pick-th one (modulo the listing's length) in canonical order.
	OpOpen
	// OpIterOpen opens an iterator, which pins the current version.
	OpIterOpen
	// OpIterClose closes the iterator opened by op Ref.
	OpIterClose
	// OpCheckpoint makes a checkpoint (hard links of the current version's
	// files in a directory of its own).
	OpCheckpoint
	// OpOpenCheckpoint opens the Pick-th file (modulo its length) of the
	// checkpoint made by op Ref.
	OpOpenCheckpoint
	numOpKinds
)

var opNames = [numOpKinds]string{"put", "delete", "flush", "compact", "list", "open", "iter-open", "iter-close", "checkpoint", "open-checkpoint"}

// String returns the kind's name, as the report prints it.
func (k OpKind) String() string {
	if k < 0 || k >= numOpKinds {
		return fmt.Sprintf("op(%d)", int(k))
	}
	return opNames[k]
}

// Op is one operation of a sequence. Which fields matter depends on Kind.
// References to earlier operations (Ref) are op indices fixed when the
// sequence is generated, so both systems resolve them the same way.
type Op struct {
	Kind OpKind
	// Key is the key of a put or delete.
	Key string
	// ValueBytes is the length of a put's value.
	ValueBytes int
	// Start and End bound a compaction (inclusive).
	Start, End string
	// Ref is the index of the op whose listing, iterator or checkpoint this
	// op uses.
	Ref int
	// Pick chooses a file of that listing or checkpoint: the Pick-th one,
	// modulo its length, in canonical order.
	Pick int
}

// String renders the op as the report and --seqs 1 print it.
func (o Op) String() string {
	switch o.Kind {
	case OpPut:
		return fmt.Sprintf("put %s (%dB)", o.Key, o.ValueBytes)
	case OpDelete:
		return "delete " + o.Key
	case OpCompact:
		return fmt.Sprintf("compact [%s, %s]", o.Start, o.End)
	case OpOpen:
		return fmt.Sprintf("open file #%d of the list at op %d", o.Pick, o.Ref)
	case OpIterClose:
		return fmt.Sprintf("iter-close (iterator of op %d)", o.Ref)
	case OpOpenCheckpoint:
		return fmt.Sprintf("open-checkpoint file #%d of the checkpoint at op %d", o.Pick, o.Ref)
	}
	return o.Kind.String()
}

// value returns the value a put at op index i writes: its index, padded to
// n bytes with a filler derived from it (incompressible enough that
// Pebble's block compression does not shrink files far below the model's).
func value(i, n int) string {
	var b strings.Builder
	b.Grow(n)
	fmt.Fprintf(&b, "v%d.", i)
	x := uint64(i)*0x9e3779b97f4a7c15 + 1
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.WriteByte(byte('a' + x%26))
	}
	return b.String()[:n]
}

// Params shape the generated sequences.
type Params struct {
	// Ops is the number of operations per sequence.
	Ops int
	// Keys is the size of the key space ("k000".."k<Keys-1>"); 0 draws it
	// per sequence from keyChoices.
	Keys int
	// MaxValueBytes bounds a put's value (drawn in 8..MaxValueBytes); 0
	// draws it per sequence from valueChoices.
	MaxValueBytes int
}

// The per-sequence shapes drawn when Params leaves them 0: from the model's
// own data sizes (8 or 16 keys of about 100 bytes, files far below the 2
// KiB target) to four times that, where flushes and compactions cut
// several output files.
var (
	keyChoices   = []int{8, 16, 32, 64}
	valueChoices = []int{64, 160, 400}
)

// DefaultParams are the figures' parameters: 50 operations per sequence,
// the key space and value sizes drawn per sequence.
func DefaultParams() Params { return Params{Ops: 50} }

// Shape is the key space and value bound one sequence was generated with.
type Shape struct {
	Keys, MaxValueBytes int
}

// String renders the shape for the report.
func (s Shape) String() string {
	return fmt.Sprintf("%d keys, values of 8..%d bytes", s.Keys, s.MaxValueBytes)
}

// ShapeOf returns the shape of seed's sequence under p (what Generate uses).
func ShapeOf(seed uint64, p Params) Shape {
	sh, _ := shapeAndSource(seed, p)
	return sh
}

func shapeAndSource(seed uint64, p Params) (Shape, *sim.PRNG) {
	rng := sim.NewPRNG(seed)
	// Both draws are made whatever Params says, so a fixed key space does
	// not shift the rest of the sequence.
	k, v := keyChoices[rng.Intn(len(keyChoices))], valueChoices[rng.Intn(len(valueChoices))]
	if p.Keys > 0 {
		k = p.Keys
	}
	if p.MaxValueBytes > 0 {
		v = p.MaxValueBytes
	}
	return Shape{Keys: k, MaxValueBytes: v}, rng
}

// weights of each op kind, in parts of weightTotal. Opens of listed files
// are the suite's main subject; the rest builds the states they meet.
var weights = [numOpKinds]int{
	OpPut: 30, OpDelete: 4, OpFlush: 12, OpCompact: 12, OpList: 10, OpOpen: 14,
	OpIterOpen: 4, OpIterClose: 5, OpCheckpoint: 4, OpOpenCheckpoint: 5,
}

// Generate draws the sequence of seed: the same seed and parameters give
// the same sequence on every machine (sim's PCG source, no global state).
// An op that needs an earlier one (an open needs a listing, an iter-close
// an open iterator, an open-checkpoint a checkpoint) is drawn again as a
// put when there is none.
func Generate(seed uint64, p Params) []Op {
	sh, rng := shapeAndSource(seed, p)
	p.Keys, p.MaxValueBytes = sh.Keys, sh.MaxValueBytes
	total := 0
	for _, w := range weights {
		total += w
	}
	var lists, ckpts, iters []int
	ops := make([]Op, 0, p.Ops)
	key := func() string { return fmt.Sprintf("k%03d", rng.Intn(p.Keys)) }
	for i := 0; i < p.Ops; i++ {
		r := rng.Intn(total)
		k := OpKind(0)
		for ; r >= weights[k]; k++ {
			r -= weights[k]
		}
		op := Op{Kind: k}
		switch k {
		case OpOpen:
			if len(lists) == 0 {
				op.Kind = OpPut
				break
			}
			// Mostly one of the last three listings: a file is usually
			// opened soon after it is listed.
			op.Ref = lists[max(0, len(lists)-1-rng.Intn(min(3, len(lists))))]
			op.Pick = rng.Intn(8)
		case OpIterClose:
			if len(iters) == 0 {
				op.Kind = OpPut
				break
			}
			j := rng.Intn(len(iters))
			op.Ref = iters[j]
			iters = append(iters[:j], iters[j+1:]...)
		case OpOpenCheckpoint:
			if len(ckpts) == 0 {
				op.Kind = OpPut
				break
			}
			op.Ref = ckpts[rng.Intn(len(ckpts))]
			op.Pick = rng.Intn(8)
		case OpCompact:
			a, b := rng.Intn(p.Keys), rng.Intn(p.Keys)
			if a > b {
				a, b = b, a
			}
			if a == b {
				// Pebble requires start < end.
				if b+1 < p.Keys {
					b++
				} else {
					a--
				}
			}
			op.Start, op.End = fmt.Sprintf("k%03d", a), fmt.Sprintf("k%03d", b)
		case OpDelete:
			op.Key = key()
		}
		if op.Kind == OpPut {
			op.Key = key()
			op.ValueBytes = 8 + rng.Intn(max(1, p.MaxValueBytes-7))
		}
		switch op.Kind {
		case OpList:
			lists = append(lists, i)
		case OpIterOpen:
			iters = append(iters, i)
		case OpCheckpoint:
			ckpts = append(ckpts, i)
		}
		ops = append(ops, op)
	}
	return ops
}

// FormatSequence renders a sequence one op a line, with its indices.
func FormatSequence(ops []Op) string {
	var b strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&b, "%3d  %s\n", i, o)
	}
	return b.String()
}
