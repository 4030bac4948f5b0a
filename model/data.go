package model

import "github.com/snapsim/snapsim/model/engine"

// The data model designs and systems share is the engine's: records, their
// kinds, column families and the description of an engine file. model
// re-exports it (type aliases, not copies), so a design that imports only
// model reads and returns the engine's own values, and an adapter over
// another engine (a real *pebble.DB) describes its files with the same
// types.
type (
	// Record is one versioned write: column family, key, sequence number,
	// kind and value.
	Record = engine.Record
	// Kind is a record's kind: KindPut or KindDelete.
	Kind = engine.Kind
	// CF is a column family (CFDefault, CFLock, CFWrite).
	CF = engine.CF
	// FileMeta describes one immutable engine file (an SST): number,
	// column family, path, size, key range, newest sequence number and
	// level. An engine that is not the model's fills the exported fields.
	FileMeta = engine.FileMeta
)

// Record kinds.
const (
	KindPut    = engine.KindPut
	KindDelete = engine.KindDelete
)

// Column families, and how many there are (NumCFs) and levels an engine
// file can sit at (NumLevels).
const (
	CFDefault = engine.CFDefault
	CFLock    = engine.CFLock
	CFWrite   = engine.CFWrite
	NumCFs    = engine.NumCFs
	NumLevels = engine.NumLevels
)

// CFs lists the column families in order.
var CFs = engine.CFs
