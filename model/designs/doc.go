// Package designs holds snapsim's built-in file-collection designs —
// naive, retry, pin, lease, lease-retry, checkpoint and scan — and the one
// retry policy every retrying design shares. It imports only model (and
// sim for its types): a design here is written against exactly the API a
// user's design is (model.Build, model.Engine and its capabilities), so
// the API is sufficient by construction and a user's design is their
// peer.
//
// The designs are registered by value, not by init side effects: All
// returns them in the documented order, and a system takes the list it is
// given (tikv.New(designs.All()...), or with a user's design appended). A
// user's design registers the same way (cli.WithDesigns, or the list
// handed to the system).
package designs

import "github.com/snapsim/snapsim/model"

// All returns the built-in designs, in the order the README's matrix
// lists them.
func All() []model.Design {
	return []model.Design{Naive(), Retry(), Pin(), Lease(), LeaseRetry(), Checkpoint(), Scan()}
}

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
