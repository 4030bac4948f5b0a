package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/model/engine"
)

// The engine's types, as the cluster and its reports name them (the same
// types as model's: aliases, not copies).
type (
	Engine        = engine.Engine
	EngineOptions = engine.EngineOptions
	FileMeta      = engine.FileMeta
	Version       = engine.Version
	Record        = engine.Record
	Kind          = engine.Kind
	CF            = engine.CF
	LeaseLog      = engine.LeaseLog
	LeaseRenewal  = engine.LeaseRenewal
	Deletion      = engine.Deletion
	DeletionHold  = engine.DeletionHold
)

// Record kinds and column families.
const (
	KindPut    = engine.KindPut
	KindDelete = engine.KindDelete
	CFDefault  = engine.CFDefault
	CFLock     = engine.CFLock
	CFWrite    = engine.CFWrite
	NumCFs     = engine.NumCFs
)

// ioChunkBytes is the size of one read or write call.
const ioChunkBytes = engine.IOChunkBytes

// CFs lists the column families in order.
var CFs = engine.CFs

// The engine's helpers the cluster uses.
var (
	isEOF    = engine.IsEOF
	readAll  = engine.ReadAll
	readSST  = engine.ReadSST
	names    = engine.Names
	less     = engine.Less
	keyRange = engine.KeyRange
)

// KeyName renders key number i of a region's key space ("k007").
func KeyName(i int) string { return fmt.Sprintf("k%03d", i) }

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
