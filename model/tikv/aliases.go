package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/model/engine"
)

// The engine's types and helpers, as the rest of the package names them
// (transitional: the engine lives in model/engine).
type (
	Engine        = engine.Engine
	EngineOptions = engine.EngineOptions
	FileMeta      = engine.FileMeta
	Version       = engine.Version
	Record        = engine.Record
	Kind          = engine.Kind
	CF            = engine.CF
	Lease         = engine.Lease
	GCMode        = engine.GCMode
	Manifest      = engine.Manifest
	ManifestFile  = engine.ManifestFile
)

const (
	KindPut                = engine.KindPut
	KindDelete             = engine.KindDelete
	CFDefault              = engine.CFDefault
	CFLock                 = engine.CFLock
	CFWrite                = engine.CFWrite
	NumCFs                 = engine.NumCFs
	NumLevels              = engine.NumLevels
	GCPrompt               = engine.GCPrompt
	GCDelayed              = engine.GCDelayed
	DefaultLevelBaseBytes  = engine.DefaultLevelBaseBytes
	DefaultLevelMultiplier = engine.DefaultLevelMultiplier
	DefaultTargetFileBytes = engine.DefaultTargetFileBytes
	ioChunkBytes           = engine.IOChunkBytes
)

var (
	CFs                 = engine.CFs
	ErrCorrupt          = engine.ErrCorrupt
	ErrCrashed          = engine.ErrCrashed
	NewEngine           = engine.NewEngine
	EncodeSST           = engine.EncodeSST
	DecodeSST           = engine.DecodeSST
	ParseGCMode         = engine.ParseGCMode
	ParseCF             = engine.ParseCF
	isEOF               = engine.IsEOF
	readAll             = engine.ReadAll
	readSST             = engine.ReadSST
	readSSTRetrying     = engine.ReadSSTRetrying
	names               = engine.Names
	less                = engine.Less
	keyRange            = engine.KeyRange
	appendSSTEntry      = engine.AppendSSTEntry
	appendSSTFooter     = engine.AppendSSTFooter
	PebbleEstimatedSize = engine.PebbleEstimatedSize
)

// KeyName renders key number i of a region's key space.
func KeyName(i int) string { return fmt.Sprintf("k%03d", i) }

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
