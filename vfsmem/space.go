package vfsmem

import "sort"

// SpaceClass is how the model classifies a file for space accounting.
type SpaceClass uint8

// Space classes, strongest first: a hard-linked inode counts once, under the
// strongest class of its paths.
const (
	SpaceLive SpaceClass = iota + 1
	SpacePinned
	SpaceGarbage
)

// Usage is a breakdown of the bytes held by the filesystem.
type Usage struct {
	Files       int   `json:"files"`
	TotalBytes  int64 `json:"total_bytes"`
	LiveBytes   int64 `json:"live_bytes"`
	PinnedBytes int64 `json:"obsolete_pinned_bytes"`
	// GarbageBytes are files the model no longer needs that still exist.
	GarbageBytes int64 `json:"garbage_bytes"`
	// OrphanBytes are unlinked files kept alive by open handles.
	OrphanBytes int64 `json:"orphan_bytes"`
	PeakBytes   int64 `json:"peak_bytes"`
}

// inode is one file's identity for accounting: hard links share it.
type inode struct {
	id uint64
	// born is the path the file was created at: its contents' object for
	// the explorer's dependency relation (stable when independent steps
	// are reordered, unlike id).
	born  string
	size  int64
	links int
	open  int
	// modTime is the virtual time of the last write (trap 6).
	modTime int64
}

// space tracks inodes by path and the total bytes held.
type space struct {
	byPath map[string]*inode
	nextID uint64
	used   int64 // bytes of every inode that still has a link or a handle
	peak   int64
	orphan int64 // bytes of unlinked inodes held by handles
}

func newSpace() space { return space{byPath: make(map[string]*inode)} }

func (s *space) create(path string) *inode {
	s.unlink(path)
	s.nextID++
	ino := &inode{id: s.nextID, born: path, links: 1}
	s.byPath[path] = ino
	return ino
}

// link makes path another name of ino.
func (s *space) link(path string, ino *inode) {
	s.unlink(path)
	ino.links++
	s.byPath[path] = ino
}

// unlink drops path's name; the bytes are freed when no link or handle is
// left.
func (s *space) unlink(path string) {
	ino, ok := s.byPath[path]
	if !ok {
		return
	}
	delete(s.byPath, path)
	ino.links--
	if ino.links == 0 {
		if ino.open > 0 {
			s.orphan += ino.size
		} else {
			s.used -= ino.size
		}
	}
}

func (s *space) grow(ino *inode, newSize int64) {
	if newSize <= ino.size {
		return
	}
	d := newSize - ino.size
	ino.size = newSize
	if ino.links == 0 {
		s.orphan += d
	}
	s.used += d
	if s.used > s.peak {
		s.peak = s.used
	}
}

func (s *space) opened(ino *inode) { ino.open++ }

func (s *space) closed(ino *inode) {
	ino.open--
	if ino.open == 0 && ino.links == 0 {
		s.orphan -= ino.size
		s.used -= ino.size
	}
}

// usage classifies every linked inode by the strongest class of its paths.
func (s *space) usage(classify func(path string) SpaceClass) Usage {
	paths := make([]string, 0, len(s.byPath))
	for p := range s.byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	class := make(map[*inode]SpaceClass, len(paths))
	var order []*inode
	for _, p := range paths {
		ino := s.byPath[p]
		c := SpaceGarbage
		if classify != nil {
			c = classify(p)
		}
		prev, seen := class[ino]
		if !seen {
			order = append(order, ino)
			class[ino] = c
		} else if c < prev {
			class[ino] = c
		}
	}
	u := Usage{Files: len(order), OrphanBytes: s.orphan, PeakBytes: s.peak}
	for _, ino := range order {
		u.TotalBytes += ino.size
		switch class[ino] {
		case SpaceLive:
			u.LiveBytes += ino.size
		case SpacePinned:
			u.PinnedBytes += ino.size
		default:
			u.GarbageBytes += ino.size
		}
	}
	u.TotalBytes += s.orphan
	return u
}
