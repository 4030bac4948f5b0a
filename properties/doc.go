// Package properties holds snapsim's property-based tests (rapid), their
// negative controls, and the glue that drives the model from rapid: every
// decision of a run — workload sizes, schedule, faults — is drawn from a
// *rapid.T, so rapid's shrinker minimises all of them together.
package properties
